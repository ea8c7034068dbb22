import API
import Foundation
import HTTPServer
import Store
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A raw TCP connection to the API server, for clients that misbehave on purpose.
struct RawConnection {
    let descriptor: Int32

    /// Connects to 127.0.0.1:`port` from the loopback address `source` (any of 127.0.0.0/8), so
    /// that a test can play several client addresses.
    init?(port: Int, from source: String = "127.0.0.1") {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        // Reads give up after 10 s, so a test fails instead of hanging.
        var patience = timeval(tv_sec: 10, tv_usec: 0)
        let timed = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, socklen_t(MemoryLayout<timeval>.size))
        guard bound == 0, timed == 0 else {
            _ = Glibc.close(fd)
            return nil
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            _ = Glibc.close(fd)
            return nil
        }
        descriptor = fd
    }

    func send(_ text: String) { _ = text.withCString { write(descriptor, $0, strlen($0)) } }

    /// Reads what has arrived, waiting for at least one byte.
    func readSome() -> String {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        return String(decoding: chunk.prefix(max(0, count)), as: UTF8.self)
    }

    /// Reads until the server closes the connection (or 64 KiB arrive): what it answered.
    func readToEnd() -> String {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while received.count < 64 * 1024 {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            received.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: received, as: UTF8.self)
    }

    func close() { _ = Glibc.close(descriptor) }
}

@Suite struct AbuseTests {
    @Test func idleSlowAndNonReadingClientsDoNotStopOthers() async throws {
        // No per-address limit here: the 1,000 idle connections all reach the server.
        var server = HTTPServerConfiguration.loopbackForTests
        server.perIPConnectionLimit = 0
        try await withAPI(server: server) { base, _ in
            let port = try #require(URLComponents(string: base)?.port)
            // 1,000 connections that never send a byte, from another client address.
            let idle = (0..<1_000).compactMap { _ in RawConnection(port: port, from: "127.0.0.2") }
            // A slow-loris client: half a request line, then nothing.
            let loris = try #require(RawConnection(port: port))
            loris.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            // A client that asks for a large answer, pipelined many times, and never reads it.
            let deaf = try #require(RawConnection(port: port))
            deaf.send(String(repeating: "GET /openapi.yaml HTTP/1.1\r\nHost: x\r\n\r\n", count: 200))
            defer { for connection in idle + [loris, deaf] { connection.close() } }
            #expect(idle.count == 1_000)
            // Others are still served.
            for _ in 0..<20 {
                let health = try await TestClient.get("\(base)/healthz")
                #expect(health.status == 200)
            }
            let submitted = try await TestClient.post("\(base)/v1/jobs", json: exampleJob)
            #expect(submitted.status == 201)
        }
    }

    @Test func oneAddressCannotTakeMoreThanItsShareOfConnections() async throws {
        var server = HTTPServerConfiguration.loopbackForTests
        server.perIPConnectionLimit = 3
        try await withAPI(server: server) { base, _ in
            let port = try #require(URLComponents(string: base)?.port)
            let held = (0..<3).compactMap { _ in RawConnection(port: port, from: "127.0.0.3") }
            defer { for connection in held { connection.close() } }
            #expect(held.count == 3)
            // Each of the three is served, so the server holds all three.
            for connection in held {
                connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(connection.readSome().hasPrefix("HTTP/1.1 200"))
            }
            // A fourth from the same address is closed unanswered…
            let fourth = try #require(RawConnection(port: port, from: "127.0.0.3"))
            defer { fourth.close() }
            fourth.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(fourth.readToEnd().isEmpty)
            // …while another address is served.
            let health = try await TestClient.get("\(base)/healthz")
            #expect(health.status == 200)
        }
    }
}
