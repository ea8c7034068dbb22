import AsyncHTTPClient
import Engine
import Foundation
import NIOCore
import NIOPosix
import Store
import TestSupport
import Testing

/// Every error the fetch path can produce reads as a short sentence of fetchq's own, never as a
/// library's debug text (errno numbers, system call signatures, type names).
@Suite struct FetchErrorMessageTests {
    /// What no message may contain.
    static let debugText = ["errno", "error set", "descriptor", "Error", "NIO", "(", ")"]

    static func expectPlain(_ message: String?, sourceLocation: SourceLocation = #_sourceLocation) {
        for fragment in debugText {
            #expect(message?.contains(fragment) == false, "\(message ?? "nil")", sourceLocation: sourceLocation)
        }
    }

    /// Every error a real worker meets fetching from broken local servers, in one job on one
    /// engine: a closed port, a server that closes without answering, one that resets the
    /// connection, one that answers bytes that are not HTTP, and a timeout.
    @Test func eachNetworkErrorAWorkerMeetsReadsAsASentence() async throws {
        let closed = try ClosedPort()
        let closing = try await RawTCPServer(.closeAfterRequest)
        let resetting = try await RawTCPServer(.resetAfterRequest)
        let garbage = try await RawTCPServer(.answerGarbage)
        let target = try TargetServer()
        let cases: [(url: String, timeout: Int, error: String, message: String)] = [
            ("http://127.0.0.1:\(closed.port)/", 5_000, "connection_failed", "connection refused"),
            ("\(closing.baseURL)/", 5_000, "connection_failed", "the server closed the connection before answering"),
            ("\(resetting.baseURL)/", 5_000, "connection_failed", "connection reset by the server"),
            ("\(garbage.baseURL)/", 5_000, "connection_failed", "the server's answer is not valid HTTP"),
            ("\(target.baseURL)/slow/5000", 300, "timeout", "timed out after 300 ms"),
        ]
        try await withEngine { store, engine in
            let job = try await submit(
                store, engine, cases.map { task($0.url, attempts: 1, timeout: $0.timeout) })
            #expect(try await waitUntilCompleted(store, job))
            for (index, expected) in cases.enumerated() {
                let outcome = try store.task(job.taskIDs[index])?.outcome
                #expect(outcome?.error == expected.error, "\(expected.url)")
                #expect(outcome?.errorMessage == expected.message, "\(expected.url)")
                Self.expectPlain(outcome?.errorMessage)
            }
        }
        withExtendedLifetime(closed) {}
        for server in [closing, resetting, garbage] { await server.stop() }
        await target.stop()
    }

    /// The errors no local server can make happen without traffic beyond loopback (an unknown
    /// host asks a name server; an unreachable network needs a route that is not there), and the
    /// client's own, from the error values the libraries throw.
    @Test func everyOtherNetworkErrorHasItsSentence() {
        let cases: [(any Error, String)] = [
            (IOError(errnoCode: ECONNREFUSED, reason: "connection reset (error set)"), "connection refused"),
            (
                IOError(errnoCode: ECONNRESET, reason: "read(descriptor:pointer:size:)"),
                "connection reset by the server"
            ),
            (IOError(errnoCode: ENETUNREACH, reason: "connect(descriptor:addr:size:)"), "network unreachable"),
            (IOError(errnoCode: EHOSTUNREACH, reason: "connect(descriptor:addr:size:)"), "host unreachable"),
            (IOError(errnoCode: ETIMEDOUT, reason: "connection reset (error set)"), "the connection timed out"),
            (
                IOError(errnoCode: EPIPE, reason: "write(descriptor:pointer:size:)"),
                NetworkFailure.closedBeforeAnswering
            ),
            (IOError(errnoCode: EMFILE, reason: "socket"), "too many open files to open a connection"),
            (IOError(errnoCode: EPROTO, reason: "read"), "the connection failed with system error \(EPROTO)"),
            (SocketAddressError.unsupported, "no address for host example.invalid"),
            (HTTPClientError.remoteConnectionClosed, NetworkFailure.closedBeforeAnswering),
            (HTTPClientError.connectTimeout, "no connection to example.invalid in time"),
            (HTTPClientError.getConnectionFromPoolTimeout, "no connection to example.invalid in time"),
            (HTTPClientError.readTimeout, "the server stopped sending before the answer was complete"),
            (HTTPClientError.bodyLengthMismatch, "the answer's body did not match its Content-Length"),
            (HTTPClientError.invalidURL, "the URL cannot be fetched"),
            (HTTPClientError.cancelled, "the request was canceled"),
            (HTTPClientError.invalidHeaderFieldNames(["a b"]), "the server's answer could not be read"),
            (ChannelError.eof, NetworkFailure.closedBeforeAnswering),
            (ChannelError.ioOnClosedChannel, NetworkFailure.closedBeforeAnswering),
            (ChannelError.connectTimeout(.seconds(10)), "the connection timed out"),
            (ChannelError.badMulticastGroupAddressFamily, "the connection failed"),
            (CancellationError(), "the connection to example.invalid failed"),
        ]
        for (error, sentence) in cases {
            let message = NetworkFailure.sentence(for: error, host: "example.invalid")
            #expect(message == sentence, "\(error)")
            Self.expectPlain(message)
        }
        #expect(NetworkFailure.isConnectionRefused(IOError(errnoCode: ECONNREFUSED, reason: "connect")))
        #expect(!NetworkFailure.isConnectionRefused(IOError(errnoCode: ECONNRESET, reason: "read")))
    }
}

/// Response header values are kept byte for byte: UTF-8 as UTF-8, other bytes (RFC 9110's
/// obs-text) as ISO-8859-1.
@Suite struct ResponseHeaderBytesTests {
    @Test func aLatinOneHeaderValueIsKeptAsSentBesideAUTF8One() async throws {
        let response =
            Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Latin: caf".utf8) + [0xE9]
            + Array("\r\nX-UTF8: caf".utf8) + [0xC3, 0xA9] + Array("\r\nX-Plain:  ascii \r\n\r\nok".utf8)
        let server = try await RawTCPServer(.answer(response))
        try await withEngine { store, engine in
            let job = try await submit(store, engine, [task("\(server.baseURL)/", attempts: 1)])
            #expect(try await waitUntilCompleted(store, job))
            let record = try #require(try store.task(job.taskIDs[0]))
            #expect(record.state == .succeeded)
            let headers = record.outcome?.headers ?? []
            #expect(headers.value(named: "x-latin") == "caf\u{E9}")
            #expect(headers.value(named: "x-utf8") == "caf\u{E9}")
            #expect(headers.value(named: "x-plain") == "ascii")
            #expect(headers.value(named: "content-length") == "2")
        }
        await server.stop()
    }
}
