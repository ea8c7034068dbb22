import API
import Foundation
import Store
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A raw TCP connection to the API server, for clients that misbehave on purpose.
struct RawConnection {
    let descriptor: Int32

    init?(port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
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

    func close() { _ = Glibc.close(descriptor) }
}

@Suite struct AbuseTests {
    @Test func idleSlowAndNonReadingClientsDoNotStopOthers() async throws {
        try await withAPI { base, _ in
            let port = try #require(URLComponents(string: base)?.port)
            // 1,000 connections that never send a byte.
            let idle = (0..<1_000).compactMap { _ in RawConnection(port: port) }
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
}
