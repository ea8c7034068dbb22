import Crypto
import Engine
import Foundation
import JSON
import Logging
import Store

extension FetchqAPI {
    func submit(_ request: HTTPRequest) throws -> Reply {
        guard accepting() else { throw Problem.shuttingDown() }
        let contentType = request.headers["content-type"]
        guard let contentType, contentType.lowercased().hasPrefix("application/json") else {
            throw Problem.unsupportedMediaType(contentType)
        }
        let key = request.headers["idempotency-key"]
        if let key, key.isEmpty || key.utf8.count > 255 {
            throw Problem.invalidField("Idempotency-Key", "`Idempotency-Key` must be 1 to 255 characters.")
        }
        let now = WallClock.nowMillis()
        let job = try SubmissionParser(
            limits: configuration.limits, defaults: configuration.defaults, destinations: configuration.destinations
        ).parse(request.body, now: now)
        let idempotency = key.map { key in
            Store.Idempotency(
                key: key, requestHash: SHA256.hash(data: request.body).map { String(format: "%02x", $0) }.joined(),
                status: 201, render: { Representation.submitted($0).serialized })
        }
        if let key {
            guard keysInProgress.claim(key) else {
                throw Problem(
                    status: 409, code: "idempotency_key_in_use", title: "Request in progress",
                    detail: "A request with this Idempotency-Key is being processed; retry later.",
                    field: "Idempotency-Key")
            }
        }
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
