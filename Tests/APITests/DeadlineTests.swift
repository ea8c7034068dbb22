import Foundation
import HTTPServer
import NIOConcurrencyHelpers
import Store
import TestSupport
import Testing

@testable import API

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the API with its connection metrics on, so that a test can read them at `/metrics`.
private func withMeteredAPI(
    server configuration: HTTPServerConfiguration, _ body: (String, Int, MetricsReader) async throws -> Void
) async throws {
    try await withTestStore { store, _ in
        let api = FetchqAPI(store: store, configuration: .forTests(), logger: .quiet, wake: {}, abort: { _ in })
        let server = try HTTPServer(
            configuration: configuration, logger: .quiet, metrics: api.metrics.factory, responder: api)
        // Read in the process, not through a connection of its own: a connection would count
        // against the limits under test, and be refused when they are reached.
        let metrics = MetricsReader { String(decoding: try await api.scrapeMetrics().body, as: UTF8.self) }
        try await withRunning(server) { try await body("http://127.0.0.1:\(server.port)", server.port, metrics) }
    }
}

/// The text `GET /metrics` answers, read from the API itself.
private struct MetricsReader: Sendable {
    let read: @Sendable () async throws -> String
}

/// One sample of the metrics, by its full name with labels; 0 when absent.
private func sample(_ metrics: MetricsReader, _ name: String) async throws -> Double {
    let text = try await metrics.read()
    let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
    return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
}

/// A client that sends requests one after another on one kept-alive connection, on a thread of
/// its own, until told to stop; it counts the answers and notes any failure.
private final class KeepAliveClient: Sendable {
    private struct State {
        var answered = 0
        var failure: String?
        var stop = false
    }

    private let state = NIOLockedValueBox(State())
    private let socket: Int32

    init?(port: Int, from address: String) {
        guard let socket = TricklingClients.connect(port: port, from: address) else { return nil }
        var patience = timeval(tv_sec: 60, tv_usec: 0)
        _ = setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &patience, socklen_t(MemoryLayout<timeval>.size))
        self.socket = socket
    }

    var answered: Int { state.withLockedValue { $0.answered } }
    var failure: String? { state.withLockedValue { $0.failure } }

    /// One request and its whole answer; the status line, or nil when the connection failed.
    func exchange() -> String? {
        TricklingClients.send(socket, Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            received += buffer.prefix(count)
            let text = String(decoding: received, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { continue }
            let head = text[..<end.lowerBound]
            let length =
                head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            if text.utf8.count - text.utf8.distance(from: text.startIndex, to: end.upperBound) >= length {
                return head.split(separator: "\r\n").first.map(String.init)
            }
        }
    }

    /// Sends requests back to back on a thread until `stop()`.
    func start() {
        Thread {
            while !self.state.withLockedValue({ $0.stop || $0.failure != nil }) {
                let status = self.exchange()
                self.state.withLockedValue { state in
                    if status == "HTTP/1.1 200 OK" { state.answered += 1 } else { state.failure = status ?? "closed" }
                }
            }
        }.start()
    }

    func stop() { state.withLockedValue { $0.stop = true } }

    func close() { _ = Glibc.close(socket) }
}

@Suite struct DeadlineTests {
    @Test func slowHeadersFromManyAddressesAreClosedWhileOthersAreServed() async throws {
        var configuration = HTTPServerConfiguration.loopbackForTests
        configuration.headerTimeoutSeconds = 2
        try await withMeteredAPI(server: configuration) {
            (base: String, port: Int, metrics: MetricsReader) async throws in
            let keepAlive = try #require(KeepAliveClient(port: port, from: "127.0.2.1"))
            defer { keepAlive.close() }
            #expect(keepAlive.exchange() == "HTTP/1.1 200 OK")
            keepAlive.start()
            // 300 connections from six addresses, each a request line and a header that never ends,
            // one more byte every half second.
            let addresses = (1...6).map { "127.0.1.\($0)" }
            let slow = TricklingClients(
                port: port, addresses: addresses, perAddress: 50,
                start: "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", trickle: UInt8(ascii: "a"), interval: 0.5)
            defer { slow.finish() }
            #expect(slow.connected == 300)
            // Meanwhile a client from 127.0.0.1 is answered.
            for _ in 0..<5 {
                #expect(try await TestClient.get("\(base)/healthz").status == 200)
                #expect(try await TestClient.post("\(base)/v1/jobs", json: exampleJob).status == 201)
            }
            // The deadline closes every slow connection, most with a 408.
            #expect(await eventually(timeout: .seconds(60), every: .milliseconds(100)) { slow.openCount == 0 })
            #expect(slow.closedCount == 300)
            #expect(slow.answered408 > 0)
            #expect(try await sample(metrics, #"fetchq_http_connections_closed_total{deadline="header"}"#) >= 300)
            // The kept-alive client was never cut, though it lived longer than the deadline.
            keepAlive.stop()
            #expect(await eventually(timeout: .seconds(60)) { keepAlive.answered > 0 })
            #expect(keepAlive.failure == nil)
            #expect(try await sample(metrics, "fetchq_http_connections_open") >= 1)
        }
    }

    @Test func aBodySlowerThanTheFloorIsCut() async throws {
        var configuration = HTTPServerConfiguration.loopbackForTests
        configuration.minBodyRate = 1_024
        try await withMeteredAPI(server: configuration) {
            (base: String, port: Int, metrics: MetricsReader) async throws in
            let head =
                "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
            let slow = TricklingClients(
                port: port, addresses: ["127.0.3.1"], perAddress: 1, start: head, trickle: UInt8(ascii: " "),
                interval: 0.5)
            defer { slow.finish() }
            #expect(slow.connected == 1)
            #expect(await eventually(timeout: .seconds(60), every: .milliseconds(100)) { slow.openCount == 0 })
            #expect(try await sample(metrics, #"fetchq_http_connections_closed_total{deadline="body"}"#) == 1)
            #expect(try await sample(metrics, #"fetchq_http_connections_closed_total{deadline="header"}"#) == 0)
            // A body sent at once is taken.
            #expect(try await TestClient.post("\(base)/v1/jobs", json: exampleJob).status == 201)
        }
    }

    @Test func aConnectionOverALimitIsClosedAtOnceAndCounted() async throws {
        var configuration = HTTPServerConfiguration.loopbackForTests
        configuration.headerTimeoutSeconds = 600
        configuration.connectionLimit = 6
        configuration.perIPConnectionLimit = 2
        try await withMeteredAPI(server: configuration) {
            (base: String, port: Int, metrics: MetricsReader) async throws in
            // Two from one address fill its share; a third from it is closed unanswered.
            let held = (0..<2).compactMap { _ in TricklingClients.connect(port: port, from: "127.0.4.1") }
            #expect(held.count == 2)
            #expect(
                try await eventually(timeout: .seconds(60)) {
                    try await sample(metrics, "fetchq_http_connections_open") >= 2
                })
            #expect(isClosedUnanswered(port: port, from: "127.0.4.1"))
            #expect(try await sample(metrics, #"fetchq_http_connections_refused_total{limit="per_address"}"#) == 1)
            // Six in all fill the server; one more from anywhere is closed unanswered.
            let more = (1...4).compactMap { TricklingClients.connect(port: port, from: "127.0.4.\($0 + 1)") }
            #expect(
                try await eventually(timeout: .seconds(60)) {
                    try await sample(metrics, "fetchq_http_connections_open") >= 6
                })
            #expect(isClosedUnanswered(port: port, from: "127.0.4.9"))
            for socket in held + more { _ = Glibc.close(socket) }
            #expect(
                try await eventually(timeout: .seconds(60)) {
                    try await sample(metrics, "fetchq_http_connections_open") <= 1
                })
            #expect(try await sample(metrics, #"fetchq_http_connections_refused_total{limit="connections"}"#) >= 1)
        }
    }
}

/// Whether a new connection from `address` is closed by the server without an answer (rather than
/// answered, or left hanging: a read waits 60 s at most).
private func isClosedUnanswered(port: Int, from address: String) -> Bool {
    guard let socket = TricklingClients.connect(port: port, from: address) else { return false }
    defer { _ = Glibc.close(socket) }
    var patience = timeval(tv_sec: 60, tv_usec: 0)
    _ = setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &patience, socklen_t(MemoryLayout<timeval>.size))
    TricklingClients.send(socket, Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
    return count == 0 || (count < 0 && errno == ECONNRESET)
}
