import Engine
import Foundation
import HTTPServer
import JSON
import Logging
import Store

// Jobs larger than one request: `POST /v1/jobs/{id}/tasks` appends a batch, `POST /v1/jobs/{id}/seal` closes it.

extension FetchqAPI {
    func append(_ request: HTTPRequest, to id: String) throws -> Reply {
        try checkJSONWrite(request)
        guard let jobID = JobID(id) else { throw Problem.notFound("Job \(id)") }
        let given = try idempotencyKey(request)
        // Keys of appends are the job's own: the same key on another job is another batch.
        let key = given.map { "jobs/\(jobID)/tasks:\($0)" }
        let now = clock.wallMillis()
        let batch = try SubmissionParser(
            limits: configuration.limits, defaults: configuration.defaults, destinations: configuration.destinations
        ).parse(request.body, now: now, batch: true)
        guard !batch.tasks.isEmpty else { throw Problem.invalidField("tasks", "`tasks` must not be empty.") }
        let idempotency = idempotency(key, for: request, render: Representation.appended)
        try claim(key)
        let (store, logger, wake, keys) = (self.store, self.logger, self.wake, self.keysInProgress)
        return .later {
            defer { if let key { keys.release(key) } }
            do {
                switch try await store.append(batch.tasks, to: jobID, idempotency: idempotency, now: now) {
                case .created(let appended):
                    wake()
                    logger.info(
                        "tasks appended", metadata: ["job.id": "\(jobID)", "job.tasks": "\(appended.taskIDs.count)"])
                    return .json(201, Representation.appended(appended))
                case .replayed(let status, let body):
                    return HTTPResponse(
                        status: status,
                        headers: [("Content-Type", "application/json"), ("Idempotent-Replayed", "true")], body: body)
                case .keyReused:
                    return Problem.invalidField(
                        "Idempotency-Key", "This Idempotency-Key was used with a different request body."
                    ).response
                }
            } catch let error as StoreError where error.code == .notFound {
                return Problem.notFound("Job \(id)").response
            } catch let error as StoreError where error.code == .conflict {
                return Problem.jobSealed(id).response
            } catch {
                logger.error("appending tasks failed", metadata: ["job.id": "\(id)", "error": "\(error)"])
                return Problem.internalError.response
            }
        }
    }

    func seal(_ id: String) throws -> Reply {
        guard let jobID = JobID(id) else { throw Problem.notFound("Job \(id)") }
        let (store, logger) = (self.store, self.logger)
        return .later {
            do {
                switch try await store.seal(job: jobID, now: clock.wallMillis()) {
                case .notFound: return Problem.notFound("Job \(id)").response
                case .sealed(let job): return .json(200, Representation.job(job))
                }
            } catch {
                logger.error("sealing a job failed", metadata: ["job.id": "\(id)", "error": "\(error)"])
                return Problem.internalError.response
            }
        }
    }
}

extension Problem {
    /// An append to a job that takes no more tasks.
    static func jobSealed(_ id: String) -> Problem {
        Problem(
            status: 409, code: "job_not_open", title: "Job takes no more tasks",
            detail: "Job \(id) is sealed or canceled: tasks can only be appended to an open job (`\"open\": true`).")
    }
}
