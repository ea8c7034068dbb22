import Foundation
import JSON
import Store

extension FetchqAPI {
    /// The longest `wait` of `GET /v1/jobs/{id}`, in seconds.
    static let maxWaitSeconds = 60

    /// `GET /v1/jobs`: newest first, optionally only pending or only completed jobs.
    func listJobs(_ query: [String: String]) throws -> HTTPResponse {
        let state: JobState? = try stateFilter(query)
        let page = try store.jobs(state: state, cursor: query["cursor"], limit: try pageLimit(query))
        return .json(
            200,
            .object([
                ("jobs", .array(page.jobs.map(Representation.job))), ("next_cursor", .optional(page.nextCursor)),
            ]))
    }

    /// `GET /v1/jobs/{id}`, at once, or with `wait=S` once the job is completed or S seconds have passed.
    func job(_ id: String, _ query: [String: String]) throws -> Reply {
        var wait = 0
        if let text = query["wait"] {
            guard let parsed = Int(text), (0...Self.maxWaitSeconds).contains(parsed) else {
                throw Problem.invalidField(
                    "wait", "`wait` must be an integer from 0 to \(Self.maxWaitSeconds) (seconds).")
            }
            wait = parsed
        }
        guard let jobID = JobID(id), let job = try store.job(jobID) else { throw Problem.notFound("Job \(id)") }
        guard wait > 0, job.state != .completed else { return .now(.json(200, Representation.job(job))) }
        let (store, logger, seconds) = (self.store, self.logger, wait)
        return .later {
            do {
                guard let job = try await store.job(jobID, waitingUpTo: .seconds(seconds)) else {
                    return Problem.notFound("Job \(id)").response
                }
                return .json(200, Representation.job(job))
            } catch {
                logger.error("waiting for a job failed", metadata: ["error": "\(error)"])
                return Problem.internalError.response
            }
        }
    }
}
