import HTTPServer
import Store

extension FetchqAPI {
    /// `DELETE /v1/jobs/{id}`: a completed job is deleted now with everything it holds (`204`); one
    /// still pending is kept (`409`).
    func deleteJob(_ id: String) -> Reply {
        guard let jobID = JobID(id) else { return .now(Problem.notFound("Job \(id)").response) }
        let (store, logger) = (self.store, self.logger)
        return .later {
            do {
                switch try await store.delete(job: jobID) {
                case .deleted:
                    logger.info("job deleted", metadata: ["job.id": "\(id)"])
                    return HTTPResponse(status: 204)
                case .noJob:
                    return Problem.notFound("Job \(id)").response
                case .pending:
                    return Problem(
                        status: 409, code: "job_pending", title: "Job is still pending",
                        detail: "Only a completed job can be deleted; cancel it first to stop its tasks."
                    ).response
                }
            } catch {
                return Problem.writeFailed(error, logger: logger, "deleting a job failed").response
            }
        }
    }
}
