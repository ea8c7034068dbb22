import API
import Foundation
import HTTPServer
import JSON
import Logging
import NIOConcurrencyHelpers

/// A real HTTP server on 127.0.0.1 (an ephemeral port) that plays the sites fetchq fetches from.
/// Its behaviour is chosen by the path:
///
/// - `/ok/NAME` → 200 with body `ok NAME`, content type `text/plain`
/// - `/status/CODE` → that status
/// - `/slow/MS` → 200 after MS milliseconds
/// - `/bytes/N` → 200 with N bytes of `x`
/// - `/redirect/N` → 302 to `/redirect/N-1`; `/redirect/0` → 200
/// - `/to/BASE64URL` → 302 to the URL inside (`TLSTargetServer.redirect(to:)` makes the path)
/// - `/flaky/KEY/K` → 500 for the first K requests of KEY, then 200
/// - `/ratelimit/KEY/K/SECONDS` → 429 with `Retry-After: SECONDS` for the first K requests of KEY, then 200
/// - `/work/ID/MS` → 200 after MS milliseconds (a distinct path per task, to count them)
/// - `/encoded/COMPRESSION/N` → 200 with `EncodedBodies.content(count: N)` compressed as
///   COMPRESSION (`gzip`, `zlibDeflate`, `rawDeflate`, `brotli`) and its `Content-Encoding`; the
///   request's `Accept-Encoding` is echoed in `X-Asked-Encoding`
/// - `/bomb/N` → 200 with N zero bytes gzipped (`Content-Encoding: gzip`)
/// - `/corrupt` → 200 with a gzip stream whose middle bytes are damaged
/// - `/lane/KEY/MS/ID` → 200 after MS milliseconds, counting the requests of KEY in flight
///   (`maxInFlight(lane:)`): one lane per job, to see each job's own limit
/// - `/capacity/N/MS/ID` → 503 (no `Retry-After`) while more than N requests are in flight, else
///   200 after MS milliseconds: a host that copes with N at a time
/// - `/echo` → 200 with the request's method, headers and body as JSON
/// - `/cookies` → 200 with two `Set-Cookie` lines
/// - `/etag/TAG` → 304 when `If-None-Match` names `"TAG"`, else 200 with `ETag: "TAG"`
///
/// It counts requests per path and the 2xx answers it gave per path.
public final class TargetServer: Sendable {
    private let server: HTTPServer
    private let running: Task<Void, Never>
    private let tally = Tally()

    private struct Counters {
        var requests: [String: Int] = [:]
        var succeeded: [String: Int] = [:]
        var inFlight = 0
        var maxInFlight = 0
        var overloaded = 0
        var lanes: [String: (now: Int, max: Int)] = [:]
    }

    private final class Tally: Sendable {
        let counters = NIOLockedValueBox(Counters())
    }

    public var port: Int { server.port }
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts serving at once. This API predates scoped servers, so the server runs in a task of
    /// its own, which `stop()` ends and joins; call `stop()` on every path.
    public init() throws {
        let tally = self.tally
        var configuration = HTTPServerConfiguration.loopbackForTests
        configuration.threads = 2
        configuration.connectionLimit = 4_096
        let server = try HTTPServer(
            configuration: configuration, logger: .quiet, shutdownGrace: .seconds(1)
        ) { request in
            .later {
                tally.counters.withLockedValue {
                    $0.requests[request.path, default: 0] += 1
                    $0.inFlight += 1
                    $0.maxInFlight = max($0.maxInFlight, $0.inFlight)
                }
                let response = await TargetServer.respond(to: request, tally: tally)
                tally.counters.withLockedValue {
                    $0.inFlight -= 1
                    if (200..<300).contains(response.status) { $0.succeeded[request.path, default: 0] += 1 }
                }
                return response
            }
        }
        self.server = server
        running = Task { _ = try? await server.run() }
    }

    /// Stops accepting, lets requests in flight finish (up to a second), and returns once the
    /// server's `run()` has.
    public func stop() async {
        server.shutdown()
        await running.value
    }

    /// Requests received for `path`.
    public func requests(_ path: String) -> Int { tally.counters.withLockedValue { $0.requests[path] ?? 0 } }

    /// Paths that were answered with a 2xx at least once.
    public var pathsAnsweredWithSuccess: Set<String> { tally.counters.withLockedValue { Set($0.succeeded.keys) } }

    /// Requests it is serving right now.
    public var inFlight: Int { tally.counters.withLockedValue { $0.inFlight } }

    /// The most requests it was serving at one time.
    public var maxInFlight: Int { tally.counters.withLockedValue { $0.maxInFlight } }

    /// The most requests of `/lane/KEY/…` it served at one time.
    public func maxInFlight(lane: String) -> Int { tally.counters.withLockedValue { $0.lanes[lane]?.max ?? 0 } }

    /// Requests `/capacity/…` answered 503 because too many were in flight.
    public var overloadedAnswers: Int { tally.counters.withLockedValue { $0.overloaded } }

    public var totalRequests: Int { tally.counters.withLockedValue { $0.requests.values.reduce(0, +) } }

    private static func respond(to request: HTTPRequest, tally: Tally) async -> HTTPResponse {
        let parts = request.path.split(separator: "/").map(String.init)
        let text = { (status: Int, body: String) in
            HTTPResponse(status: status, headers: [("Content-Type", "text/plain")], body: Array(body.utf8))
        }
        switch (parts.first, parts.count) {
        case ("ok", 2):
            return text(200, "ok \(parts[1])")
        case ("status", 2):
            return text(Int(parts[1]) ?? 500, "status \(parts[1])")
        case ("slow", 2):
            try? await Task.sleep(for: .milliseconds(Int(parts[1]) ?? 0))
            return text(200, "slow \(parts[1])")
        case ("bytes", 2):
            return HTTPResponse(
                status: 200, headers: [("Content-Type", "application/octet-stream")],
                body: [UInt8](repeating: UInt8(ascii: "x"), count: Int(parts[1]) ?? 0))
        case ("redirect", 2):
            let remaining = Int(parts[1]) ?? 0
            guard remaining > 0 else { return text(200, "arrived") }
            return HTTPResponse(status: 302, headers: [("Location", "/redirect/\(remaining - 1)")])
        case ("to", 2):
            guard let target = TLSTargetServer.redirectTarget(parts[1]) else { return text(400, "not base64url") }
            return HTTPResponse(status: 302, headers: [("Location", target)])
        case ("flaky", 3):
            let failures = Int(parts[2]) ?? 0
            let seen = tally.counters.withLockedValue { $0.requests[request.path] ?? 0 }
            return seen <= failures ? text(500, "failing \(seen)") : text(200, "recovered")
        case ("ratelimit", 4):
            let limited = Int(parts[2]) ?? 0
            let seen = tally.counters.withLockedValue { $0.requests[request.path] ?? 0 }
            guard seen <= limited else { return text(200, "welcome back") }
            var response = text(429, "slow down")
            response.headers.append(("Retry-After", parts[3]))
            return response
        case ("encoded", 3):
            guard let compression = Compression(rawValue: parts[1]) else { return text(400, "unknown compression") }
            let asked = request.headers["accept-encoding"] ?? "-"
            return HTTPResponse(
                status: 200,
                headers: [
                    ("Content-Type", "text/plain"), ("Content-Encoding", compression.coding.rawValue),
                    ("X-Asked-Encoding", asked),
                ],
                body: compression.compress(EncodedBodies.content(count: Int(parts[2]) ?? 0)))
        case ("bomb", 2):
            return HTTPResponse(
                status: 200, headers: [("Content-Type", "application/octet-stream"), ("Content-Encoding", "gzip")],
                body: Compression.gzip.compress([UInt8](repeating: 0, count: Int(parts[1]) ?? 0)))
        case ("corrupt", 1):
            var body = Compression.gzip.compress(EncodedBodies.content(count: 100_000))
            for index in stride(from: body.count / 3, to: body.count / 3 + 64, by: 1) { body[index] ^= 0x5A }
            return HTTPResponse(
                status: 200, headers: [("Content-Type", "text/plain"), ("Content-Encoding", "gzip")], body: body)
        case ("lane", 4):
            tally.counters.withLockedValue {
                var lane = $0.lanes[parts[1]] ?? (0, 0)
                lane.now += 1
                lane.max = max(lane.max, lane.now)
                $0.lanes[parts[1]] = lane
            }
            try? await Task.sleep(for: .milliseconds(Int(parts[2]) ?? 0))
            tally.counters.withLockedValue { $0.lanes[parts[1]]?.now -= 1 }
            return text(200, "lane \(parts[1])")
        case ("capacity", 4):
            let capacity = Int(parts[1]) ?? 1
            guard tally.counters.withLockedValue({ $0.inFlight }) <= capacity else {
                tally.counters.withLockedValue { $0.overloaded += 1 }
                return text(503, "too busy")
            }
            try? await Task.sleep(for: .milliseconds(Int(parts[2]) ?? 0))
            return text(200, "coped \(parts[3])")
        case ("work", 3):
            try? await Task.sleep(for: .milliseconds(Int(parts[2]) ?? 0))
            return text(200, "done \(parts[1])")
        case ("cookies", 1):
            var response = text(200, "two cookies")
            response.headers += [
                ("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Expires=Wed, 09 Jun 2027 10:18:14 GMT"),
            ]
            return response
        case ("etag", 2):
            let tag = "\"\(parts[1])\""
            let asked = request.headers.first { $0.key.lowercased() == "if-none-match" }?.value
            guard asked != tag else { return HTTPResponse(status: 304, headers: [("ETag", tag)]) }
            var response = text(200, "version \(parts[1])")
            response.headers.append(("ETag", tag))
            return response
        case ("echo", 1):
            let echo: JSONValue = .object([
                ("method", .string(request.method)),
                ("headers", .object(request.headers.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
                ("body", .string(String(decoding: request.body, as: UTF8.self))),
            ])
            return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: echo.serialized)
        default:
            return text(404, "no such path")
        }
    }
}

/// The content `TargetServer`'s `/encoded/…` answers carry, compressed: text that compresses well
/// but is not a plain repeat, the same for the same length, so that a test can compare a decoded
/// body byte for byte.
public enum EncodedBodies {
    public static func content(count: Int) -> [UInt8] {
        var generator = SeededRandom(seed: UInt64(count))
        let words = ["fetchq ", "queue ", "task ", "host ", "body ", "gzip ", "\n"].map { Array($0.utf8) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count { bytes += words[Int(generator.next() % UInt64(words.count))] }
        return Array(bytes.prefix(count))
    }
}
