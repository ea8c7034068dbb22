import Crypto
import Dispatch
import Engine
import Foundation
import HTTPServer
import JSON
import Logging
import NIOConcurrencyHelpers
import Store

/// fetchq's HTTP API: routes each request to the store and the engine.
///
/// Every answer that touches the store comes later, from Swift concurrency, while the connection
/// waits suspended: a read may be a round trip to PostgreSQL, and the server's thread never waits.
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

    let store: any QueueStore
    let configuration: Configuration
    let logger: Logger
    /// Tells the engine that tasks are due.
    let wake: @Sendable () -> Void
    /// Tells the engine to abort running tasks that were canceled.
    let abort: @Sendable ([Int64]) -> Void
    /// False once the service is shutting down: submissions are then refused with 503.
    let accepting: @Sendable () -> Bool
    /// Idempotency keys of submissions being stored right now.
    let keysInProgress = KeysInProgress()
    /// The scheduler's last view of hosts and slots (empty without an engine).
    let status: EngineStatus
    let metrics: APIMetrics
    /// Where the API reads the time it records (submissions, cancels) and compares with.
    let clock: EngineClock
    /// When this API started, for `GET /v1/nodes` on a single node.
    let startedAt: Int64

    public init(
        store: any QueueStore, configuration: Configuration, logger: Logger, wake: @escaping @Sendable () -> Void,
        abort: @escaping @Sendable ([Int64]) -> Void, accepting: @escaping @Sendable () -> Bool = { true },
        status: EngineStatus = EngineStatus(), metrics: APIMetrics = APIMetrics(), clock: EngineClock = .system
    ) {
        self.clock = clock
        self.startedAt = clock.wallMillis()
        self.status = status
        self.metrics = metrics
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.wake = wake
        self.abort = abort
        self.accepting = accepting
    }

    /// Wires the API to a running engine.
    public init(
        store: any QueueStore, engine: Engine, configuration: Configuration, logger: Logger,
        metrics: APIMetrics = APIMetrics()
    ) {
        self.init(
            store: store, configuration: configuration, logger: logger, wake: { engine.wake() },
            abort: { engine.abort($0) }, accepting: { engine.isAcceptingWork }, status: engine.status,
            metrics: metrics, clock: engine.configuration.clock)
    }

    /// Answers a request, and counts it under its route's template.
    public func handle(_ request: HTTPRequest) -> Reply {
        let startedAt = DispatchTime.now().uptimeNanoseconds
        let match = Self.routes.match(request.path)
        let template = match?.path.template ?? "unmatched"
        let reply: Reply
        do {
            reply = try self.route(request, match)
        } catch {
            reply = .now(errorResponse(error, for: request))
        }
        switch reply {
        case .now(let response):
            metrics.request(template, status: response.status, startedAt: startedAt)
            return reply
        case .later(let work):
            let metrics = self.metrics
            return .later {
                let response = try await work()
                metrics.request(template, status: response.status, startedAt: startedAt)
                return response
            }
        }
    }

    /// A thrown `Problem` as itself; anything unexpected logged and answered as a bare 500.
    func errorResponse(_ error: any Error, for request: HTTPRequest) -> HTTPResponse {
        if let problem = error as? Problem { return problem.response }
        if let error = error as? StoreError, error.code == .invalidCursor {
            return Problem.invalidField("cursor", error.message).response
        }
        if let error = error as? StoreError, error.isStorageFull { return Problem.insufficientStorage.response }
        if let error = error as? StoreError, error.code == .unavailable { return Problem.storeUnavailable.response }
        logger.error("request failed", metadata: ["http.path": "\(request.path)", "error": "\(error)"])
        return Problem.internalError.response
    }

    /// The table's answer: 404 for an unknown path; then the token, where the path needs it; then
    /// 405 (with `Allow`) for a method the path does not answer; then the route's handler.
    private func route(_ request: HTTPRequest, _ match: RouteMatch<FetchqAPI>?) throws -> Reply {
        guard let match else { throw Problem.notFound("The route \(request.path)") }
        if match.path.needsToken { try authenticate(request) }
        guard let route = match.path.route(for: request.method) else {
            throw Problem.methodNotAllowed(match.path.allowed)
        }
        return try route.handler(
            self,
            RoutedRequest(request: request, parameterNames: match.path.parameterNames, parameterValues: match.values))
    }

    /// A read of the store, answered from Swift concurrency; what it throws is answered as
    /// `errorResponse` says (a `Problem` as itself).
    func read(_ request: HTTPRequest, _ work: @escaping @Sendable () async throws -> HTTPResponse) -> Reply {
        let api = self
        return .later {
            do { return try await work() } catch { return api.errorResponse(error, for: request) }
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

    /// `200 ok`, or `503 degraded` while the disk is full or the database is out of reach, so a
    /// load balancer sends work elsewhere.
    func health() -> HTTPResponse {
        switch store.health {
        case .unavailable(let since, let reason):
            return Self.degraded(
                "unavailable", since: since, detail: "The database cannot be reached: \(reason)",
                retryAfter: Problem.retryAfterWhenUnavailableSeconds)
        case .ok:
            return .json(200, .object([("status", "ok")]))
        case .full(let since):
            return Self.degraded(
                "disk_full", since: since, detail: "The database's disk is full: new jobs are refused with 507.",
                retryAfter: Problem.retryAfterWhenFullSeconds)
        }
    }

    /// `/healthz`' answer while the store cannot take writes: why, since when, and when to look again.
    private static func degraded(_ status: String, since: Int64, detail: String, retryAfter: Int) -> HTTPResponse {
        .json(
            503,
            .object([
                ("status", "degraded"),
                (
                    "store",
                    .object([
                        ("status", .string(status)), ("since", Representation.timestamp(since)),
                        ("detail", .string(detail)),
                    ])
                ),
            ]), headers: [("Retry-After", "\(retryAfter)")])
    }

}
