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
    /// Longest an order sent ahead may wait for a free slot before it is handed back unstarted.
    public var maxQueueMillis: Int

    public init(
        concurrency: Int, userAgent: String, destinations: DestinationGuard, trustRoots: TrustRoots?,
        maxQueueMillis: Int
    ) {
        self.concurrency = concurrency
        self.userAgent = userAgent
        self.destinations = destinations
        self.trustRoots = trustRoots
        self.maxQueueMillis = maxQueueMillis
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
        let destinations = configuration.destinations
        clientConfiguration.http1_1ConnectionDebugInitializer = { channel in
            destinations.check(channel).flatMap { ObsTextHeaders.install(on: channel) }
        }
        clientConfiguration.http2ConnectionDebugInitializer = configuration.destinations.check
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration)
        let fetcher = Fetcher(
            client: client, userAgent: configuration.userAgent, destinations: configuration.destinations)
        let outbox = ResultOutbox(writer: FrameWriter(descriptor: output), logger: logger)
        let slots = FetchSlots(
            concurrency: configuration.concurrency, maxQueueMillis: configuration.maxQueueMillis,
            start: { order, finished in
                fetcher.prepare(order) { result in
                    outbox.post(.result(result))
                    finished()
                }
            },
            onUnstarted: { order in outbox.post(.unstarted(order.lease)) },
            onCanceledWhileQueued: { order in
                outbox.post(.result(FetchResult(lease: order.lease, durationMillis: 0, failure: .canceledTask)))
            })
        // Orders sent ahead that wait too long go back; a quarter of the bound between looks.
        let sweepEvery = TimeAmount.milliseconds(Int64(max(1, configuration.maxQueueMillis / 4)))
        let sweep = HTTPClient.defaultEventLoopGroup.next().scheduleRepeatedTask(
            initialDelay: sweepEvery, delay: sweepEvery
        ) { _ in slots.expire() }

        // Orders are acted on by the thread that reads them: a fetch starts on an event loop at
        // once and reports from there; nothing waits in between.
        await withCheckedContinuation { (closed: CheckedContinuation<Void, Never>) in
            FrameReader.start(
                descriptor: input, name: "fetchq-worker-stdin",
                onPayload: { payload in
                    switch try WireCodec.decodeOrder(payload) {
                    case .fetch(let order): slots.submit(order)
                    case .cancel(let lease): slots.cancel(lease)
                    case .handBack: slots.handBackQueued()
                    }
                },
                onEnd: { error in
                    if let error { logger.error("reading orders failed", metadata: ["error": "\(error)"]) }
                    closed.resume()
                })
        }
        logger.debug(
            "orders closed; stopping",
            metadata: ["worker.in_flight": "\(slots.runningCount)", "worker.queued": "\(slots.queuedCount)"])
        sweep.cancel()
        await slots.close()
        await outbox.flushed()
        try await client.shutdown()
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

    func post(_ report: Report) {
        var frame: [UInt8] = []
        WireCodec.encode(report, into: &frame)
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
