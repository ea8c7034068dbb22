import Crypto
import Engine
import Foundation
import JSON
import Logging
import NIOConcurrencyHelpers
import Store

/// fetchq's HTTP API: routes each request to the store and the engine.
///
/// Reads answer at once on the server's thread (a read-only SQLite query takes microseconds);
/// writes are answered later, off that thread, once the store has committed them.
public struct FetchqAPI: Sendable {
    public struct Configuration: Sendable {
        public var limits: SubmissionLimits
        public var defaults: SubmissionDefaults
        /// Largest `limit` for task listings.
        public var maxPageSize = 1_000
        /// Refuses task and callback URLs whose host is a private or reserved IP literal.
        public var destinations: DestinationGuard
        /// Bearer tokens that open `/v1`; empty means no authentication.
        public var apiTokens: [String]

        /// Every value an operator can set has no default here: `fetchq serve`'s settings table holds it.
        public init(
            limits: SubmissionLimits, defaults: SubmissionDefaults, destinations: DestinationGuard, apiTokens: [String]
        ) {
            self.limits = limits
            self.defaults = defaults
            self.destinations = destinations
            self.apiTokens = apiTokens
        }
    }

    private let store: Store
    private let configuration: Configuration
    private let logger: Logger
    /// Tells the engine that tasks are due.
    private let wake: @Sendable () -> Void
    /// Tells the engine to abort running tasks that were canceled.
    private let abort: @Sendable ([Int64]) -> Void
    /// False once the service is shutting down: submissions are then refused with 503.
    private let accepting: @Sendable () -> Bool
    /// Idempotency keys of submissions being stored right now.
    private let keysInProgress = KeysInProgress()

    public init(
        store: Store, configuration: Configuration, logger: Logger, wake: @escaping @Sendable () -> Void,
        abort: @escaping @Sendable ([Int64]) -> Void, accepting: @escaping @Sendable () -> Bool = { true }
    ) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.wake = wake
        self.abort = abort
        self.accepting = accepting
    }

    /// Wires the API to a running engine.
    public init(store: Store, engine: Engine, configuration: Configuration, logger: Logger) {
        self.init(
            store: store, configuration: configuration, logger: logger, wake: { engine.wake() },
            abort: { engine.abort($0) }, accepting: { engine.isAcceptingWork })
    }

    public func handle(_ request: HTTPRequest) -> Reply {
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        do {
            return try route(request, segments)
        } catch {
            return .now(errorResponse(error, for: request))
        }
    }

    /// A thrown `Problem` as itself; anything unexpected logged and answered as a bare 500.
    func errorResponse(_ error: any Error, for request: HTTPRequest) -> HTTPResponse {
        if let problem = error as? Problem { return problem.response }
        if let error = error as? StoreError, error.code == .invalidCursor {
            return Problem.invalidField("cursor", error.message).response
        }
        logger.error("request failed", metadata: ["http.path": "\(request.path)", "error": "\(error)"])
        return Problem.internalError.response
    }

    private func route(_ request: HTTPRequest, _ segments: [String]) throws -> Reply {
        let method = request.method
        guard let route = Route(segments) else { throw Problem.notFound("The route \(request.path)") }
        if route.needsToken { try authenticate(request) }
        try allow(method, route.methods)
        switch route {
        case .health:
            return .now(.json(200, .object([("status", "ok")])))
        case .openAPI:
            return .now(
                HTTPResponse(
                    status: 200, headers: [("Content-Type", "application/yaml")], body: Array(OpenAPIDocument.text.utf8)
                ))
        case .jobs:
            return try submit(request)
        case .job(let id):
            guard let job = try JobID(id).flatMap(store.job) else { throw Problem.notFound("Job \(id)") }
            return .now(.json(200, Representation.job(job)))
        case .jobTasks(let id):
            return .now(try listTasks(of: id, request.query))
        case .jobCancel(let id):
            guard let jobID = JobID(id) else { throw Problem.notFound("Job \(id)") }
            return cancel("Job \(id)") { try await $0.cancel(job: jobID, now: WallClock.nowMillis()) }
        case .task(let id):
            guard let task = try TaskID(id).flatMap(store.task) else { throw Problem.notFound("Task \(id)") }
            return .now(.json(200, Representation.task(task)))
        case .taskBody(let id):
            return .now(try body(of: id))
        case .taskCancel(let id):
            guard let taskID = TaskID(id) else { throw Problem.notFound("Task \(id)") }
            return cancel("Task \(id)") { try await $0.cancel(task: taskID, now: WallClock.nowMillis()) }
        case .taskRetry(let id):
            guard let taskID = TaskID(id) else { throw Problem.notFound("Task \(id)") }
            return retry(taskID)
        case .jobDeliveries(let id):
            let limit = try pageLimit(request.query)
            guard let jobID = JobID(id),
                let page = try store.deliveries(of: jobID, cursor: request.query["cursor"], limit: limit)
            else { throw Problem.notFound("Job \(id)") }
            return .now(
                .json(
                    200,
                    .object([
                        ("deliveries", .array(page.deliveries.map(Representation.delivery))),
                        ("next_cursor", .optional(page.nextCursor)),
                    ])))
        case .redeliver(let id):
            return redeliver(id)
        }
    }

    /// With tokens configured, `/v1` needs `Authorization: Bearer <one of them>`. Compared in
    /// constant time, against every token, so timing tells nothing; tokens are never logged.
    private func authenticate(_ request: HTTPRequest) throws(Problem) {
        guard !configuration.apiTokens.isEmpty else { return }
        let given = request.headers["authorization"].flatMap { header -> String? in
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
            return String(parts[1]).trimmingCharacters(in: .whitespaces)
        }
        var matched = false
        if let given {
            let digest = Array(SHA256.hash(data: Array(given.utf8)))
            for token in configuration.apiTokens {
                let expected = Array(SHA256.hash(data: Array(token.utf8)))
                var difference: UInt8 = 0
                for index in expected.indices { difference |= expected[index] ^ digest[index] }
                matched = matched || difference == 0
            }
        }
        guard matched else {
            var problem = Problem(
                status: 401, code: "unauthorized", title: "Authentication required",
                detail: given == nil
                    ? "Send `Authorization: Bearer <token>`." : "The bearer token is not one this service accepts.",
                field: "Authorization")
            problem.extraHeaders = [("WWW-Authenticate", #"Bearer realm="fetchq""#)]
            throw problem
        }
    }

    private func allow(_ method: String, _ allowed: [String]) throws(Problem) {
        guard allowed.contains(method) else { throw Problem.methodNotAllowed(allowed) }
    }

    private func submit(_ request: HTTPRequest) throws -> Reply {
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
                logger.error("storing a job failed", metadata: ["error": "\(error)"])
                return Problem.internalError.response
            }
        }
    }

    private func retry(_ id: TaskID) -> Reply {
        let (store, logger, wake) = (self.store, self.logger, self.wake)
        return .later {
            do {
                switch try await store.rerun(task: id, now: WallClock.nowMillis()) {
                case nil:
                    return Problem.notFound("Task \(id)").response
                case false?:
                    return Problem(
                        status: 409, code: "not_retryable_state", title: "Task is not failed or canceled",
                        detail: "Only a failed or canceled task can be retried.", field: nil
                    ).response
                case true?:
                    wake()
                    guard let task = try store.task(id) else { return Problem.notFound("Task \(id)").response }
                    return .json(200, Representation.task(task))
                }
            } catch {
                logger.error("retry failed", metadata: ["error": "\(error)"])
                return Problem.internalError.response
            }
        }
    }

    private func listTasks(of id: String, _ query: [String: String]) throws -> HTTPResponse {
        var state: TaskState?
        if let text = query["state"] {
            guard let parsed = TaskState(rawValue: text) else {
                throw Problem.invalidField(
                    "state", "`state` must be one of \(TaskState.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            state = parsed
        }
        var limit = 100
        if let text = query["limit"] {
            guard let parsed = Int(text), (1...configuration.maxPageSize).contains(parsed) else {
                throw Problem.invalidField(
                    "limit", "`limit` must be an integer from 1 to \(configuration.maxPageSize).")
            }
            limit = parsed
        }
        guard let jobID = JobID(id),
            let page = try store.tasks(of: jobID, state: state, cursor: query["cursor"], limit: limit)
        else { throw Problem.notFound("Job \(id)") }
        return .json(200, Representation.page(page))
    }

    private func pageLimit(_ query: [String: String]) throws(Problem) -> Int {
        guard let text = query["limit"] else { return 100 }
        guard let parsed = Int(text), (1...configuration.maxPageSize).contains(parsed) else {
            throw Problem.invalidField("limit", "`limit` must be an integer from 1 to \(configuration.maxPageSize).")
        }
        return parsed
    }

    private func redeliver(_ id: String) -> Reply {
        let (store, logger) = (self.store, self.logger)
        return .later {
            do {
                guard let deliveryID = DeliveryID(id),
                    let delivery = try await store.redeliver(deliveryID, now: WallClock.nowMillis())
                else {
                    return Problem.notFound("Delivery \(id)").response
                }
                return .json(200, Representation.delivery(delivery))
            } catch {
                logger.error("redeliver failed", metadata: ["error": "\(error)"])
                return Problem.internalError.response
            }
        }
    }

    private func body(of id: String) throws -> HTTPResponse {
        guard let taskID = TaskID(id) else { throw Problem.notFound("Task \(id)") }
        switch try store.body(of: taskID) {
        case .noTask:
            throw Problem.notFound("Task \(id)")
        case .noBody:
            throw Problem(
                status: 404, code: "body_not_found", title: "No body stored",
                detail: "Task \(id) has no stored response yet.")
        case .body(let body, let truncated):
            return HTTPResponse(
                status: 200,
                headers: [
                    ("Content-Type", body.contentType ?? "application/octet-stream"),
                    ("Fetchq-Body-Truncated", truncated ? "true" : "false"),
                ], body: body.bytes)
        }
    }

    private func cancel(
        _ what: String, _ operation: @escaping @Sendable (Store) async throws -> Store.Cancellation?
    ) -> Reply {
        let (store, logger, abort) = (self.store, self.logger, self.abort)
        return .later {
            do {
                guard let result = try await operation(store) else { return Problem.notFound(what).response }
                abort(result.running)
                return .json(200, .object([("canceled", .integer(result.canceled))]))
            } catch {
                logger.error("cancel failed", metadata: ["error": "\(error)"])
                return Problem.internalError.response
            }
        }
    }
}

/// The API's routes, parsed from the path's segments.
enum Route: Equatable {
    case health
    case openAPI
    case jobs
    case job(String)
    case jobTasks(String)
    case jobCancel(String)
    case task(String)
    case taskBody(String)
    case taskCancel(String)
    case taskRetry(String)
    case jobDeliveries(String)
    case redeliver(String)

    init?(_ segments: [String]) {
        switch (segments.count, segments.first, segments.dropFirst().first) {
        case (1, "healthz", _): self = .health
        case (1, "openapi.yaml", _): self = .openAPI
        case (2, "v1", "jobs"): self = .jobs
        case (3, "v1", "jobs"): self = .job(segments[2])
        case (4, "v1", "jobs") where segments[3] == "tasks": self = .jobTasks(segments[2])
        case (4, "v1", "jobs") where segments[3] == "cancel": self = .jobCancel(segments[2])
        case (3, "v1", "tasks"): self = .task(segments[2])
        case (4, "v1", "tasks") where segments[3] == "body": self = .taskBody(segments[2])
        case (4, "v1", "tasks") where segments[3] == "cancel": self = .taskCancel(segments[2])
        case (4, "v1", "tasks") where segments[3] == "retry": self = .taskRetry(segments[2])
        case (4, "v1", "jobs") where segments[3] == "deliveries": self = .jobDeliveries(segments[2])
        case (4, "v1", "deliveries") where segments[3] == "redeliver": self = .redeliver(segments[2])
        default: return nil
        }
    }

    /// Health and the contract stay open; everything under `/v1` needs a token when tokens are set.
    var needsToken: Bool {
        switch self {
        case .health, .openAPI: false
        default: true
        }
    }

    /// The methods each route answers.
    var methods: [String] {
        switch self {
        case .jobs, .jobCancel, .taskCancel, .taskRetry, .redeliver: ["POST"]
        case .health, .openAPI, .job, .jobTasks, .task, .taskBody, .jobDeliveries: ["GET", "HEAD"]
        }
    }
}

/// Idempotency keys whose submission is being stored, so a concurrent duplicate gets 409.
final class KeysInProgress: Sendable {
    private let keys = NIOLockedValueBox<Set<String>>([])

    /// False when the key is already in progress.
    func claim(_ key: String) -> Bool { keys.withLockedValue { $0.insert(key).inserted } }

    func release(_ key: String) { _ = keys.withLockedValue { $0.remove(key) } }
}
