import CMicroHTTPD
import Foundation
import Logging
import Synchronization

/// Settings of the HTTP listener.
public struct HTTPServerConfiguration: Sendable {
    /// An IPv4 or IPv6 address literal.
    public var host: String
    /// 0 picks a free port; `HTTPServer.port` tells which.
    public var port: Int
    public var threads: Int
    /// Largest request body accepted; larger ones get 413 and are not read.
    public var maxRequestBytes: Int
    /// Seconds an idle connection is kept.
    public var connectionTimeoutSeconds: Int
    public var connectionLimit: Int
    public var perIPConnectionLimit: Int

    public init(
        host: String = "127.0.0.1", port: Int = 8080, threads: Int = 4, maxRequestBytes: Int = 16 << 20,
        connectionTimeoutSeconds: Int = 30, connectionLimit: Int = 1_024, perIPConnectionLimit: Int = 0
    ) {
        self.host = host
        self.port = port
        self.threads = threads
        self.maxRequestBytes = maxRequestBytes
        self.connectionTimeoutSeconds = connectionTimeoutSeconds
        self.connectionLimit = connectionLimit
        self.perIPConnectionLimit = perIPConnectionLimit
    }
}

/// Why the server could not start.
public struct HTTPServerError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// An HTTP/1.1 server on libmicrohttpd: a thread pool polls with epoll; a handler either answers at
/// once or suspends the connection and answers from a Swift task.
public final class HTTPServer: Sendable {
    private let daemon: Daemon
    public let port: Int
    private let connections: ConnectionRegistry

    /// Starts listening at once; `stop()` ends it.
    public init(configuration: HTTPServerConfiguration, logger: Logger, handler: @escaping HTTPHandler) throws {
        let connections = ConnectionRegistry(
            handler: handler, maxRequestBytes: configuration.maxRequestBytes, logger: logger)
        self.connections = connections
        self.daemon = try Daemon(configuration: configuration, registry: connections)
        self.port = daemon.port
    }

    /// Stops accepting connections, lets suspended requests finish (up to `grace`), then stops.
    public func stop(grace: Duration = .seconds(5)) async {
        daemon.quiesce()
        await connections.waitForSuspended(upTo: grace)
        daemon.stop()
    }
}
