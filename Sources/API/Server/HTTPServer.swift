import CMicroHTTPD
import Foundation
import Logging

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

    /// No defaults here: `fetchq serve`'s settings table holds them.
    public init(
        host: String, port: Int, threads: Int, maxRequestBytes: Int, connectionTimeoutSeconds: Int,
        connectionLimit: Int, perIPConnectionLimit: Int
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
    private let logger: Logger

    /// Starts listening at once; `stop()` ends it.
    public init(configuration: HTTPServerConfiguration, logger: Logger, handler: @escaping HTTPHandler) throws {
        let connections = ConnectionRegistry(
            handler: handler, maxRequestBytes: configuration.maxRequestBytes, logger: logger)
        self.connections = connections
        self.logger = logger
        self.daemon = try Daemon(configuration: configuration, registry: connections)
        self.port = daemon.port
    }

    /// Stops accepting connections, lets requests in progress finish (up to `grace`), answers
    /// the rest with 503, then stops. libmicrohttpd must not be stopped with a suspended connection.
    public func stop(grace: Duration = .seconds(5)) async {
        daemon.quiesce()
        if await connections.waitUntilNoneSuspended(upTo: grace) == false {
            let unavailable = Problem.shuttingDown("The service stopped before this request finished; retry it.")
            connections.resumeAll(with: unavailable.response)
            guard await connections.waitUntilNoneSuspended(upTo: .seconds(5)) else {
                logger.error("connections stayed suspended; leaving the HTTP daemon running")
                return
            }
        }
        daemon.stop()
    }
}
