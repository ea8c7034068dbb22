import API
import Foundation
import HTTPServer
import NIOConcurrencyHelpers

/// A real HTTP server on 127.0.0.1 playing a site with a robots.txt: `/robots.txt` answers the
/// scripted answers in turn (the last one from then on); every other path answers 200 `page PATH`.
/// It records when each request arrived, by path, so tests measure spacing on the site's side.
public final class RobotsSite: Sendable {
    /// One scripted answer of `/robots.txt`.
    public struct Answer: Sendable {
        public let status: Int
        public let body: String

        public init(status: Int = 200, _ body: String = "") {
            self.status = status
            self.body = body
        }
    }

    private struct Log {
        var arrivals: [String: [ContinuousClock.Instant]] = [:]
        var userAgents: [String] = []
    }

    private let server: HTTPServer
    private let running: Task<Void, Never>
    private let log = NIOLockedValueBox(Log())

    public var baseURL: String { "http://127.0.0.1:\(server.port)" }

    public init(robots: [Answer]) throws {
        let log = self.log
        let script = robots.isEmpty ? [Answer(status: 404)] : robots
        let server = try HTTPServer(configuration: .loopbackForTests, logger: .quiet, shutdownGrace: .seconds(1)) {
            request in
            let path = request.path
            let served = log.withLockedValue { log -> Int in
                log.arrivals[path, default: []].append(.now)
                if path == "/robots.txt" {
                    log.userAgents.append(request.headers["user-agent"] ?? "")
                }
                return log.arrivals[path, default: []].count
            }
            guard path == "/robots.txt" else {
                return .now(
                    HTTPResponse(
                        status: 200, headers: [("Content-Type", "text/plain")], body: Array("page \(path)".utf8)))
            }
            let answer = script[min(served, script.count) - 1]
            return .now(
                HTTPResponse(
                    status: answer.status, headers: [("Content-Type", "text/plain")], body: Array(answer.body.utf8)))
        }
        self.server = server
        running = Task { _ = try? await server.run() }
    }

    /// Stops the server and waits for it.
    public func stop() async {
        server.shutdown()
        await running.value
    }

    /// Requests received for `path`.
    public func requests(_ path: String) -> Int { log.withLockedValue { $0.arrivals[path]?.count ?? 0 } }

    /// When the requests for every path but `/robots.txt` arrived, in order.
    public var pageArrivals: [ContinuousClock.Instant] {
        log.withLockedValue { $0.arrivals.filter { $0.key != "/robots.txt" }.values.flatMap { $0 }.sorted() }
    }

    /// The User-Agent of each `/robots.txt` request.
    public var robotsUserAgents: [String] { log.withLockedValue { $0.userAgents } }
}
