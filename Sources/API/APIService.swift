import HTTPServer
import Logging
import ServiceLifecycle

/// Runs the HTTP server as a service: listens from `run()` until graceful shutdown, then stops
/// taking connections and lets requests in progress finish (see `HTTPServer`).
public final class APIService: Service, Sendable {
    private let server: HTTPServer
    public var port: Int { server.port }

    /// Binds the listener at once, so that a port that is in use fails start-up, not later.
    public init(configuration: HTTPServerConfiguration, api: FetchqAPI, logger: Logger) throws {
        do {
            self.server = try HTTPServer(
                configuration: configuration, logger: logger, metrics: api.metrics.factory, responder: api)
        } catch let error as HTTPServerError where error.reason == .hostNotAnAddress {
            throw HTTPServerError(.hostNotAnAddress, "--host must be an IP address literal, not \(configuration.host)")
        }
        logger.info("listening", metadata: ["http.host": "\(configuration.host)", "http.port": "\(server.port)"])
    }

    public func run() async throws {
        try await server.run()
    }
}
