import AsyncHTTPClient
import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Settings of one worker process, passed on its command line by the supervisor.
public struct WorkerConfiguration: Sendable {
    /// Requests in flight at once; the supervisor never sends more, and the connection pool is
    /// sized to match.
    public var concurrency: Int
    public var userAgent: String
    public var destinations: DestinationGuard
    /// Certificate authorities trusted on top of the system's (`--ca-file`).
    public var trustRoots: TrustRoots?

    public init(concurrency: Int, userAgent: String, destinations: DestinationGuard, trustRoots: TrustRoots?) {
        self.concurrency = concurrency
        self.userAgent = userAgent
        self.destinations = destinations
        self.trustRoots = trustRoots
    }
}

/// The body of `fetchq worker`: reads orders from standard input, performs fetches concurrently
/// with one shared `HTTPClient`, writes results to standard output, and returns when standard
/// input closes (the supervisor is gone or wants it to stop).
public enum WorkerRuntime {
    public static func run(
        configuration: WorkerConfiguration, input: Int32 = 0, output: Int32 = 1, logger: Logger
    ) async throws {
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.redirectConfiguration = .disallow
        clientConfiguration.decompression = .disabled
        clientConfiguration.tlsConfiguration = .fetchqClient(trusting: configuration.trustRoots)
        clientConfiguration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        clientConfiguration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, configuration.concurrency))
        // A refused connection is a result to record (and maybe retry with backoff), not
        // something to retry silently until the connect timeout.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        // No distributed tracing is bootstrapped; without this each request still builds a span
        // (its URL parsed again for the span's attributes): about 7 % of a worker's CPU, profiled.
        clientConfiguration.tracing.tracer = nil
        clientConfiguration.http1_1ConnectionDebugInitializer = configuration.destinations.check
        clientConfiguration.http2ConnectionDebugInitializer = configuration.destinations.check
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration)
        let fetcher = Fetcher(
            client: client, userAgent: configuration.userAgent, destinations: configuration.destinations)
        let outbox = ResultOutbox(writer: FrameWriter(descriptor: output), logger: logger)
        let inFlight = InFlightFetches()

        // Orders are acted on by the thread that reads them: a fetch starts on an event loop at
        // once and reports from there; nothing waits in between.
        await withCheckedContinuation { (closed: CheckedContinuation<Void, Never>) in
            FrameReader.start(
                descriptor: input, name: "fetchq-worker-stdin",
                onPayload: { payload in
                    switch try WireCodec.decodeOrder(payload) {
                    case .fetch(let order):
                        let fetch = fetcher.prepare(order) { result in
                            outbox.post(result)
                            inFlight.finished(order.lease)
                        }
                        // Registered before it starts, so even a fetch that fails at once finds itself.
                        inFlight.add(fetch, for: order.lease)
                        fetch.start()
                    case .cancel(let lease):
                        inFlight.cancel(lease)
                    }
                },
                onEnd: { error in
                    if let error { logger.error("reading orders failed", metadata: ["error": "\(error)"]) }
                    closed.resume()
                })
        }
        logger.debug("orders closed; stopping", metadata: ["worker.in_flight": "\(inFlight.count)"])
        await inFlight.cancelAll()
        await outbox.flushed()
        try await client.shutdown()
    }
}

/// The fetches a worker is running, by lease, so that one can be canceled by its lease, and so
/// that the worker can wait for all of them before it exits.
final class InFlightFetches: Sendable {
    private struct State {
        var running: [LeaseKey: RunningFetch] = [:]
        var idle: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())

    var count: Int { state.withLockedValue { $0.running.count } }

    func add(_ fetch: RunningFetch, for lease: LeaseKey) {
        state.withLockedValue { $0.running[lease] = fetch }
    }

    func finished(_ lease: LeaseKey) {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.running[lease] = nil
            guard state.running.isEmpty else { return [] }
            defer { state.idle = [] }
            return state.idle
        }
        for waiter in waiters { waiter.resume() }
    }

    func cancel(_ lease: LeaseKey) {
        state.withLockedValue { $0.running[lease] }?.cancel()
    }

    /// Cancels every fetch and returns once each has reported.
    func cancelAll() async {
        await withCheckedContinuation { continuation in
            let fetches = state.withLockedValue { state -> [RunningFetch]? in
                guard !state.running.isEmpty else { return nil }
                state.idle.append(continuation)
                return Array(state.running.values)
            }
            guard let fetches else { return continuation.resume() }
            for fetch in fetches { fetch.cancel() }
        }
    }
}

/// Results on their way to the supervisor. Frames are queued from event-loop threads, which must
/// not block on a full pipe, and written by one serial queue: all that is queued in one `write`.
final class ResultOutbox: Sendable {
    private struct Pending {
        var bytes: [UInt8] = []
        var scheduled = false
    }

    private let writer: FrameWriter
    private let logger: Logger
    private let queue = DispatchQueue(label: "fetchq-worker-results")
    private let pending = NIOLockedValueBox(Pending())

    init(writer: FrameWriter, logger: Logger) {
        self.writer = writer
        self.logger = logger
    }

    func post(_ result: FetchResult) {
        var frame: [UInt8] = []
        WireCodec.encode(.result(result), into: &frame)
        let schedule = pending.withLockedValue { pending in
            pending.bytes.append(contentsOf: frame)
            defer { pending.scheduled = true }
            return !pending.scheduled
        }
        if schedule { queue.async { self.flush() } }
    }

    private func flush() {
        let bytes = pending.withLockedValue { pending in
            defer {
                pending.bytes = []
                pending.scheduled = false
            }
            return pending.bytes
        }
        do {
            try writer.write(bytes)
        } catch {
            logger.error("writing results failed", metadata: ["error": "\(error)"])
        }
    }

    /// Returns once everything posted so far is written.
    func flushed() async {
        await withCheckedContinuation { continuation in queue.async { continuation.resume() } }
    }
}
