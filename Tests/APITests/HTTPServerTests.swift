import Foundation
import Logging
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import API
@testable import HTTPServer

#if canImport(Glibc)
    import Glibc
#endif

/// The HTTP server on its own, on 127.0.0.1 port 0, with a responder that is not fetchq's: what
/// the server answers by itself must come from the responder, and `run()` must own every request.
@Suite(.timeLimit(.minutes(1))) struct HTTPServerTests {
    @Test func aRequestInFlightWhenShutdownStartsIsAnsweredBeforeRunReturns() async throws {
        let (entered, release, stopping) = (Gate(), Gate(), Gate())
        let events = Events()
        let server = try HTTPServer(
            configuration: .local, logger: .opening(stopping, on: "HTTP server stopping"),
            shutdownGrace: .seconds(30),
            responder: TestResponder { _ in
                .later {
                    entered.open()
                    await release.wait()
                    events.append("work finished")
                    return .text(200, "finished")
                }
            })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await server.run()
                events.append("run returned")
            }
            group.addTask {
                let response = try await TestClient.get("http://127.0.0.1:\(server.port)/slow")
                events.append("answered \(response.status) \(response.text)")
            }
            await entered.wait()
            server.shutdown()
            await stopping.wait()
            release.open()
            try await group.waitForAll()
        }
        #expect(events.all.contains("answered 200 finished"))
        #expect(events.all.filter { $0 != "answered 200 finished" } == ["work finished", "run returned"])
    }

    @Test func afterRunReturnsThePortRefusesConnections() async throws {
        let server = try HTTPServer(
            configuration: .local, logger: .quiet, responder: TestResponder { _ in .later { .text(200, "ok") } })
        let port = server.port
        try await withRunning(server) {
            let response = try await TestClient.get("http://127.0.0.1:\(port)/")
            #expect(response.text == "ok")
            #expect(connects(to: port))
        }
        #expect(!connects(to: port))
    }

    @Test func runRunsOnlyOnce() async throws {
        let server = try HTTPServer(
            configuration: .local, logger: .quiet, responder: TestResponder { _ in .now(.text(200, "ok")) })
        try await withRunning(server) {}
        await #expect(throws: HTTPServerError.self) { try await server.run() }
    }

    @Test func aHandlersErrorIsAnsweredWithTheApplicationsResponse() async throws {
        let server = try HTTPServer(
            configuration: .local, logger: .quiet,
            responder: TestResponder { request in
                guard request.path == "/later" else { throw Refusal(reason: "at once") }
                return .later { throw Refusal(reason: "later") }
            })
        try await withRunning(server) {
            let now = try await TestClient.get("http://127.0.0.1:\(server.port)/now")
            #expect(now.status == 418)
            #expect(now.headers["content-type"] == "text/x-test")
            #expect(now.text == "app: Refusal(reason: \"at once\") on /now")
            let later = try await TestClient.get("http://127.0.0.1:\(server.port)/later")
            #expect(later.status == 418)
            #expect(later.text == "app: Refusal(reason: \"later\") on /later")
        }
    }

    /// A HEAD of a streamed (chunked) answer is its head alone: nothing follows it on a kept-alive
    /// connection, so the next answer there is read as sent (libmicrohttpd added the chunked
    /// trailer `0\r\n\r\n`, which a client took for the start of its next answer).
    @Test func aHeadOfAStreamedAnswerLeavesNothingBehindOnTheConnection() async throws {
        let server = try HTTPServer(
            configuration: .local, logger: .quiet,
            responder: TestResponder { _ in
                let pieces = NIOLockedValueBox([Array("one ".utf8), Array("two".utf8)])
                return .now(
                    HTTPResponse(
                        status: 200, headers: [("Content-Type", "text/plain")],
                        stream: HTTPBodyStream { pieces.withLockedValue { $0.isEmpty ? nil : $0.removeFirst() } }))
            })
        try await withRunning(server) {
            let exchange = try await rawExchange(
                port: server.port,
                "HEAD /s HTTP/1.1\r\nHost: x\r\n\r\nGET /s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let parts = exchange.components(separatedBy: "\r\n\r\n")
            #expect(parts.count >= 2)
            #expect(parts.first?.hasPrefix("HTTP/1.1 200") == true)
            #expect(parts.count >= 2 && parts[1].hasPrefix("HTTP/1.1 200"), "the GET's answer follows the head at once")
        }
    }

    @Test func aBodyOverTheLimitIsAnsweredWithTheApplicationsResponse() async throws {
        let server = try HTTPServer(
            configuration: .local(maxRequestBytes: 1_024),
            logger: .quiet, responder: TestResponder { _ in .later { .text(200, "read it all") } })
        try await withRunning(server) {
            // Announced by Content-Length: answered from the headers, before any body is read.
            let announced = try await rawExchange(
                port: server.port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\nConnection: close\r\n\r\n")
            #expect(announced.hasPrefix("HTTP/1.1 413"))
            #expect(announced.hasSuffix("\r\n\r\napp: too large over 1024"))
            // Chunked: found out while reading.
            let chunked = try await TestClient.request(
                "POST", "http://127.0.0.1:\(server.port)/", body: [UInt8](repeating: 1, count: 4_096), chunked: true)
            #expect(chunked.status == 413)
            #expect(chunked.text == "app: too large over 1024")
        }
    }

    @Test func aRequestUnfinishedWhenTheGraceEndsGetsTheApplicationsResponseAndItsWorkIsCancelled() async throws {
        let (entered, cancelled) = (Gate(), Gate())
        let events = Events()
        let server = try HTTPServer(
            configuration: .local, logger: .quiet, shutdownGrace: .milliseconds(50),
            responder: TestResponder { _ in
                .later {
                    entered.open()
                    await withTaskCancellationHandler {
                        await cancelled.wait()
                    } onCancel: {
                        cancelled.open()
                    }
                    events.append("work ended, cancelled: \(Task.isCancelled)")
                    return .text(200, "too late")
                }
            })
        try await withThrowingTaskGroup(of: TestResponse?.self) { group in
            group.addTask {
                try await server.run()
                events.append("run returned")
                return nil
            }
            group.addTask { try await TestClient.get("http://127.0.0.1:\(server.port)/forever") }
            await entered.wait()
            server.shutdown()
            var answered: [TestResponse] = []
            for try await response in group { if let response { answered.append(response) } }
            #expect(answered.map(\.status) == [503])
            #expect(answered.first?.text == "app: stopping")
            #expect(answered.first?.headers["retry-after"] == "7")
        }
        #expect(events.all == ["work ended, cancelled: true", "run returned"])
    }
}

/// The bookkeeping alone, without a daemon.
@Suite struct InFlightRequestsTests {
    @Test func eachRequestIsAnsweredOnceAndClosingWaitsForTheLastToComplete() async {
        let requests = InFlightRequests<String>()
        let (first, second) = (Token(), Token())
        #expect(requests.admit(ObjectIdentifier(first), "first"))
        #expect(requests.admit(ObjectIdentifier(second), "second"))
        #expect(await requests.closeWhen(.noneInFlight, within: .milliseconds(10)) == false)
        #expect(requests.answer(ObjectIdentifier(first)) == "first")
        #expect(requests.answer(ObjectIdentifier(first)) == nil)
        #expect(requests.closeAndAnswerAll() == ["second"])
        #expect(requests.admit(ObjectIdentifier(Token()), "late") == false)
        requests.queued(ObjectIdentifier(first))
        async let noneSuspended = requests.closeWhen(.noneSuspended, within: .seconds(30))
        requests.queued(ObjectIdentifier(second))
        #expect(await noneSuspended)
        async let noneInFlight = requests.closeWhen(.noneInFlight, within: .seconds(30))
        requests.remove(ObjectIdentifier(first))
        requests.remove(ObjectIdentifier(second))
        #expect(await noneInFlight)
    }
}

private final class Token {}

private struct Refusal: Error {
    let reason: String
}

/// A responder with an error format of its own, unlike the server's plain text and fetchq's JSON.
private struct TestResponder: HTTPResponder {
    let handler: @Sendable (HTTPRequest) throws -> Reply

    func reply(to request: HTTPRequest) throws -> Reply { try handler(request) }

    func response(for failure: HTTPServerFailure) -> HTTPResponse {
        switch failure {
        case .requestTooLarge(let limit): .text(413, "app: too large over \(limit)")
        case .requestTimeout: .text(408, "app: too slow")
        case .shuttingDown: .text(503, "app: stopping", headers: [("Retry-After", "7")])
        case .handlerFailed(let error, let request): .text(418, "app: \(error) on \(request.path)")
        }
    }
}

extension HTTPResponse {
    fileprivate static func text(_ status: Int, _ text: String, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/x-test")] + headers, body: Array(text.utf8))
    }
}

extension HTTPServerConfiguration {
    fileprivate static let local = HTTPServerConfiguration.loopbackForTests

    fileprivate static func local(maxRequestBytes: Int) -> HTTPServerConfiguration {
        var configuration = loopbackForTests
        configuration.maxRequestBytes = maxRequestBytes
        // About the size limit only: no body-rate floor to cut a slow upload on a loaded machine.
        configuration.minBodyRate = 0
        return configuration
    }
}

/// A one-shot event: `wait()` returns once `open()` was called.
private final class Gate: Sendable {
    private enum State {
        case closed([CheckedContinuation<Void, Never>])
        case open
    }
    private let state = NIOLockedValueBox(State.closed([]))

    func open() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            guard case .closed(let waiters) = state else { return [] }
            state = .open
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLockedValue { state -> Bool in
                guard case .closed(let waiters) = state else { return true }
                state = .closed(waiters + [continuation])
                return false
            }
            if isOpen { continuation.resume() }
        }
    }
}

/// What happened, in order.
private final class Events: Sendable {
    private let events = NIOLockedValueBox<[String]>([])
    func append(_ event: String) { events.withLockedValue { $0.append(event) } }
    var all: [String] { events.withLockedValue { $0 } }
}

/// Opens a gate when a given message is logged: how a test learns that shutdown has begun.
private struct GateOpeningLogHandler: LogHandler {
    let gate: Gate
    let message: String
    var metadata: Logger.Metadata = [:]
    var logLevel = Logger.Level.trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        if event.message.description == message { gate.open() }
    }
}

extension Logger {
    fileprivate static func opening(_ gate: Gate, on message: String) -> Logger {
        Logger(label: "fetchq.test") { _ in GateOpeningLogHandler(gate: gate, message: message) }
    }
}

/// Whether a TCP connection to 127.0.0.1:`port` is accepted.
private func connects(to port: Int) -> Bool {
    LoopbackSocket(port: port) != nil
}

/// Sends `request` as is and returns all the server sends back until it closes the connection. The
/// blocking reads run on a thread of their own, never on Swift concurrency's few threads, which
/// the server's tasks need to answer.
private func rawExchange(port: Int, _ request: String) async throws -> String {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try blockingExchange(port: port, request) }) }.start()
    }
}

private func blockingExchange(port: Int, _ request: String) throws -> String {
    guard let socket = LoopbackSocket(port: port) else { throw POSIXError(.ECONNREFUSED) }
    let bytes = Array(request.utf8)
    guard bytes.withUnsafeBytes({ send(socket.descriptor, $0.baseAddress, $0.count, 0) }) == bytes.count else {
        throw POSIXError(.EIO)
    }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4_096)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(socket.descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { break }
        received += buffer[0..<count]
    }
    return String(decoding: received, as: UTF8.self)
}

/// A connected TCP socket to 127.0.0.1, closed on deinit; reads give up after two minutes (under
/// the sanitizers, with every test running at once on two cores, an answer can take many seconds).
private final class LoopbackSocket {
    let descriptor: Int32

    init?(port: Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            _ = Glibc.close(descriptor)
            return nil
        }
        self.descriptor = descriptor
    }

    deinit { _ = Glibc.close(descriptor) }
}
