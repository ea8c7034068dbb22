import AsyncHTTPClient
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

    public init(concurrency: Int, userAgent: String, destinations: DestinationGuard = DestinationGuard()) {
        self.concurrency = concurrency
        self.userAgent = userAgent
        self.destinations = destinations
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
        let fetcher = Fetcher(client: client, userAgent: configuration.userAgent)
        let writer = FrameWriter(descriptor: output)
        let inFlight = InFlightFetches()

        let (orders, continuation) = AsyncStream.makeStream(of: Order.self)
        FrameReader.start(
            descriptor: input, name: "fetchq-worker-stdin",
            onPayload: { payload in continuation.yield(try WireCodec.decodeOrder(payload)) },
            onEnd: { error in
                if let error { logger.error("reading orders failed", metadata: ["error": "\(error)"]) }
                continuation.finish()
            })

        for await order in orders {
            switch order {
            case .fetch(let fetch):
                inFlight.start(fetch.lease) {
                    let result = await fetcher.fetch(fetch)
                    var frame: [UInt8] = []
                    WireCodec.encode(.result(result), into: &frame)
                    do {
                        try writer.write(frame)
                    } catch {
                        logger.error("writing a result failed", metadata: ["error": "\(error)"])
                    }
                }
            case .cancel(let lease):
                inFlight.cancel(lease)
            }
        }
        logger.debug("orders closed; stopping", metadata: ["worker.in_flight": "\(inFlight.count)"])
        await inFlight.cancelAll()
        try await client.shutdown()
    }
}

/// The fetches a worker is running, by lease, so that one can be canceled by its lease.
///
/// Unstructured tasks because an order to cancel names one fetch, and a task group cannot cancel
/// one child; `cancelAll` awaits every one of them before the worker exits.
final class InFlightFetches: Sendable {
    private let tasks = NIOLockedValueBox<[LeaseKey: Task<Void, Never>]>([:])

    var count: Int { tasks.withLockedValue { $0.count } }

    func start(_ lease: LeaseKey, _ work: @escaping @Sendable () async -> Void) {
        // Created under the lock, so the task's own removal cannot run before it is registered.
        tasks.withLockedValue { tasks in
            tasks[lease] = Task {
                await work()
                self.tasks.withLockedValue { _ = $0.removeValue(forKey: lease) }
            }
        }
    }

    func cancel(_ lease: LeaseKey) {
        tasks.withLockedValue { $0[lease] }?.cancel()
    }

    func cancelAll() async {
        let running = tasks.withLockedValue { Array($0.values) }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }
}
