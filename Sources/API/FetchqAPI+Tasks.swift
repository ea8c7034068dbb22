import Engine
import Foundation
import HTTPServer
import JSON
import Logging
import Store

extension FetchqAPI {
    /// `GET /v1/tasks/{id}`.
    func task(_ id: String) async throws -> HTTPResponse {
        guard let taskID = TaskID(id), let task = try await store.task(taskID) else {
            throw Problem.notFound("Task \(id)")
        }
        let pauses = try await store.hostPauses(now: clock.wallMillis())
        return .json(200, Representation.task(task, waiting: waiting(task, hostPauses: pauses)))
    }

    /// `POST /v1/tasks/{id}/cancel`.
    func cancelTask(_ id: String) throws -> Reply {
        guard let taskID = TaskID(id) else { throw Problem.notFound("Task \(id)") }
        return cancel("Task \(id)") { try await $0.cancel(task: taskID, now: clock.wallMillis()) }
    }

    /// `POST /v1/tasks/{id}/retry`.
    func retryTask(_ id: String) throws -> Reply {
        guard let taskID = TaskID(id) else { throw Problem.notFound("Task \(id)") }
        return retry(taskID)
    }

    func retry(_ id: TaskID) -> Reply {
        let (store, logger, wake, api) = (self.store, self.logger, self.wake, self)
        return .later {
            do {
                switch try await store.rerun(task: id, now: clock.wallMillis()) {
                case nil:
                    return Problem.notFound("Task \(id)").response
                case false?:
                    return Problem(
                        status: 409, code: "not_retryable_state", title: "Task is not failed or canceled",
                        detail: "Only a failed or canceled task can be retried.", field: nil
                    ).response
                case true?:
                    wake()
                    guard let task = try await store.task(id) else { return Problem.notFound("Task \(id)").response }
                    let pauses = try await store.hostPauses(now: clock.wallMillis())
                    return .json(200, Representation.task(task, waiting: api.waiting(task, hostPauses: pauses)))
                }
            } catch {
                return Problem.writeFailed(error, logger: logger, "retry failed").response
            }
        }
    }

    func listTasks(of id: String, _ query: [String: String]) async throws -> HTTPResponse {
        let state: TaskState? = try stateFilter(query)
        let limit = try pageLimit(query)
        guard let jobID = JobID(id),
            let page = try await store.tasks(of: jobID, state: state, cursor: query["cursor"], limit: limit)
        else { throw Problem.notFound("Job \(id)") }
        let pauses = try await store.hostPauses(now: clock.wallMillis())
        return .json(200, Representation.page(page) { waiting($0, hostPauses: pauses) })
    }

    /// The `state` query parameter, one of `State`'s values; nil when not given.
    func stateFilter<State: RawRepresentable & CaseIterable>(_ query: [String: String]) throws(Problem) -> State?
    where State.RawValue == String {
        guard let text = query["state"] else { return nil }
        guard let state = State(rawValue: text) else {
            throw Problem.invalidField(
                "state", "`state` must be one of \(State.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return state
    }

    func pageLimit(_ query: [String: String]) throws(Problem) -> Int {
        guard let text = query["limit"] else { return 100 }
        guard let parsed = Int(text), (1...configuration.maxPageSize).contains(parsed) else {
            throw Problem.invalidField("limit", "`limit` must be an integer from 1 to \(configuration.maxPageSize).")
        }
        return parsed
    }

    func body(of id: String) async throws -> HTTPResponse {
        guard let taskID = TaskID(id) else { throw Problem.notFound("Task \(id)") }
        switch try await store.body(of: taskID) {
        case .noTask:
            throw Problem.notFound("Task \(id)")
        case .noBody:
            throw Problem(
                status: 404, code: "body_not_found", title: "No body stored",
                detail: "Task \(id) has no stored response yet.")
        case .body(let body, let truncated):
            var headers = [
                ("Content-Type", body.contentType ?? "application/octet-stream"),
                ("Fetchq-Body-Truncated", truncated ? "true" : "false"),
                // A target's page, shown by a browser on the dashboard's origin, runs nothing there.
                ("Content-Security-Policy", "sandbox; default-src 'none'"), ("X-Content-Type-Options", "nosniff"),
            ]
            // Stored as sent: an encoded body is served with its encoding, for the client to decode.
            if let encoding = body.contentEncoding {
                headers += [("Content-Encoding", encoding), ("Vary", "Accept-Encoding")]
            }
            return HTTPResponse(status: 200, headers: headers, body: body.bytes)
        }
    }

    func cancel(
        _ what: String, _ operation: @escaping @Sendable (any QueueStore) async throws -> Cancellation?
    ) -> Reply {
        let (store, logger, abort, metrics) = (self.store, self.logger, self.abort, self.metrics)
        return .later {
            do {
                guard let result = try await operation(store) else { return Problem.notFound(what).response }
                metrics.canceled(result.canceled)
                abort(result.running)
                return .json(200, .object([("canceled", .integer(result.canceled))]))
            } catch {
                return Problem.writeFailed(error, logger: logger, "cancel failed").response
            }
        }
    }
}
