import Engine
import Foundation
import HTTPServer
import JSON
import Logging
import Store

extension FetchqAPI {
    func submit(_ request: HTTPRequest) throws -> Reply {
        try checkJSONWrite(request)
        let key = try idempotencyKey(request)
        let now = clock.wallMillis()
        let job = try SubmissionParser(
            limits: configuration.limits, defaults: configuration.defaults, destinations: configuration.destinations
        ).parse(request.body, now: now)
        let idempotency = idempotency(key, for: request, render: Representation.submitted)
        try claim(key)
        let (store, logger, wake, keys) = (self.store, self.logger, self.wake, self.keysInProgress)
        return .later {
            defer { if let key { keys.release(key) } }
            do {
                switch try await store.submit(job, idempotency: idempotency, now: now) {
                case .created(let submitted):
                    wake()
                    logger.info(
                        "job submitted",
                        metadata: ["job.id": "\(submitted.id)", "job.tasks": "\(submitted.taskIDs.count)"])
                    return .json(
                        201, Representation.submitted(submitted), headers: [("Location", "/v1/jobs/\(submitted.id)")])
                case .replayed(let status, let body):
                    let id = (try? JSONParser.parse(body))?["id"]?.stringValue ?? ""
                    return HTTPResponse(
                        status: status,
                        headers: [
                            ("Content-Type", "application/json"), ("Location", "/v1/jobs/\(id)"),
                            ("Idempotent-Replayed", "true"),
                        ], body: body)
                case .keyReused:
                    return Problem.invalidField(
                        "Idempotency-Key", "This Idempotency-Key was used with a different request body."
                    ).response
                }
            } catch {
                return Problem.writeFailed(error, logger: logger, "storing a job failed").response
            }
        }
    }
}
