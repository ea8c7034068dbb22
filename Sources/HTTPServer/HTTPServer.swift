import CoreMetrics
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// An HTTP/1.1 server on libmicrohttpd: a thread pool polls with epoll; the responder either
/// answers at once or suspends the connection and answers from a child task of `run()`.
///
/// `init` binds the port, so that one in use fails start-up. `run()` serves until `shutdown()`,
/// graceful shutdown (swift-service-lifecycle) or cancellation, and then, in this order: stops
/// accepting connections; lets requests in flight finish (up to `shutdownGrace`); answers those
/// still unfinished with the responder's `.shuttingDown` response and cancels their work; stops
/// the daemon; returns once every request's work has ended.
public final class HTTPServer: Service, Sendable {
    private enum State {
        case bound
        case running
        case finished
    }

    public let port: Int
    private let daemon: Daemon
    private let connections: ConnectionRegistry
    private let responder: any HTTPResponder
    private let accepted: AsyncStream<ServerWork>
    private let acceptedInput: AsyncStream<ServerWork>.Continuation
    private let shutdownRequested = ShutdownSignal()
    private let state = NIOLockedValueBox(State.bound)
    private let shutdownGrace: Duration
    private let logger: Logger

    /// Binds the listener; requests are answered, and the deadlines kept, once `run()` runs.
    /// `metrics` makes the connection metrics (open, closed by a deadline, refused by a limit).
    public init(
        configuration: HTTPServerConfiguration, logger: Logger, shutdownGrace: Duration = .seconds(5),
        metrics: any MetricsFactory = NOOPMetricsHandler.instance, responder: some HTTPResponder
    ) throws {
        (accepted, acceptedInput) = AsyncStream.makeStream(of: ServerWork.self)
        let timeout = ConnectionWatch.wire(responder.response(for: .requestTimeout), reason: "Request Timeout")
        let watch = ConnectionWatch(
            configuration: configuration, metrics: metrics, metricsPrefix: responder.metricsPrefix, logger: logger
        ) { socket, _ in
            cutSocket(socket, reply: timeout)
        }
        let connections = ConnectionRegistry(
            responder: responder, maxRequestBytes: configuration.maxRequestBytes, accepted: acceptedInput,
            watch: watch)
        self.connections = connections
        self.responder = responder
        self.shutdownGrace = shutdownGrace
        self.logger = logger
        self.daemon = try Daemon(configuration: configuration, registry: connections)
        self.port = daemon.port
    }

    /// A server whose handler is a closure, with plain-text answers for the server's own failures.
    public convenience init(
        configuration: HTTPServerConfiguration, logger: Logger, shutdownGrace: Duration = .seconds(5),
        handler: @escaping HTTPHandler
    ) throws {
        try self.init(
            configuration: configuration, logger: logger, shutdownGrace: shutdownGrace,
            responder: HandlerResponder(handler: handler))
    }

    /// Serves until shutdown, then stops as described on the type. Runs once.
    public func run() async throws {
        let starts = state.withLockedValue { state in
            guard case .bound = state else { return false }
            state = .running
            return true
        }
        guard starts else { throw HTTPServerError(.ranTwice, "HTTPServer.run() runs only once") }
        defer { state.withLockedValue { $0 = .finished } }
        await withDiscardingTaskGroup { group in
            group.addTask { await self.stopWhenAsked() }
            group.addTask { await self.connections.watch.run() }
            for await work in accepted {
                switch work {
                case .answer(let request): group.addTask { await self.answer(request) }
                case .produce(let piece): group.addTask { await piece() }
                }
            }
            // The stream ends once the daemon has stopped (or `run()` was cancelled). Work still
            // going belongs to requests already answered with `.shuttingDown`.
            group.cancelAll()
        }
    }

    /// Starts the shutdown of a running server (or of the next `run()`); returns at once.
    public func shutdown() { shutdownRequested.fire() }

    private func answer(_ accepted: AcceptedRequest) async {
        // Skips work whose request was answered while it sat in the stream.
        guard connections.inFlight.isSuspended(accepted.key) else { return }
        let response: HTTPResponse
        do {
            response = try await accepted.work()
        } catch {
            response = responder.response(for: .handlerFailed(error, accepted.request))
        }
        connections.resume(accepted.key, with: response)
    }

    /// Waits for shutdown, then drains. libmicrohttpd must not be stopped with a suspended connection.
    private func stopWhenAsked() async {
        await withGracefulShutdownHandler {
            await shutdownRequested.wait()
        } onGracefulShutdown: {
            self.shutdown()
        }
        daemon.quiesce()
        logger.info("HTTP server stopping")
        // Ends the stream last, whatever happens: that lets `run()` return.
        defer { acceptedInput.finish() }
        let grace = Task.isCancelled ? .zero : shutdownGrace
        if await connections.inFlight.closeWhen(.noneInFlight, within: grace) == false {
            connections.closeAndResumeAll(with: responder.response(for: .shuttingDown))
            // Lets those answers be sent; a client that does not read them is cut off, unless
            // libmicrohttpd has not even taken its answer (stopping it then would be unsafe).
            if await connections.inFlight.closeWhen(.noneInFlight, within: .seconds(5)) == false {
                guard await connections.inFlight.closeWhen(.noneSuspended, within: .zero) else {
                    logger.error("connections stayed suspended; leaving the HTTP daemon running")
                    return
                }
            }
        }
        // Nothing may cut a socket once the daemon has closed it (its descriptor may be reused).
        connections.watch.stop()
        daemon.stop()
    }
}
