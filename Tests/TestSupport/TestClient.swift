import API
import AsyncHTTPClient
import Foundation
import JSON
import NIOCore

/// A small HTTP client for tests, answering status, headers and the body parsed as JSON.
public struct TestResponse: Sendable {
    public let status: Int
    public let headers: [String: String]
    public let body: [UInt8]

    public var json: JSONValue? { try? JSONParser.parse(body) }
    public var text: String { String(decoding: body, as: UTF8.self) }
}

public enum TestClient {
    public static func request(
        _ method: String, _ url: String, json: String? = nil, body: [UInt8]? = nil,
        headers: [(String, String)] = [], chunked: Bool = false
    ) async throws -> TestResponse {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            if !request.headers.contains(name: "content-type") {
                request.headers.add(name: "content-type", value: "application/json")
            }
            request.body = .bytes(ByteBuffer(string: json))
        } else if let body, chunked {
            // Sent in pieces without a Content-Length, so the server learns the size only by reading.
            let pieces = stride(from: 0, to: body.count, by: 1 << 20).map {
                ByteBuffer(bytes: body[$0..<min($0 + (1 << 20), body.count)])
            }
            let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
            for piece in pieces { continuation.yield(piece) }
            continuation.finish()
            request.body = .stream(stream, length: .unknown)
        } else if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        // Minutes, not seconds: under a sanitizer, with hundreds of tests and their services
        // starting at once on two cores, an answer can take far longer than it ever should.
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(180))
        var collected = try await response.body.collect(upTo: 64 << 20)
        var names: [String: String] = [:]
        for header in response.headers { names[header.name.lowercased()] = header.value }
        return TestResponse(
            status: Int(response.status.code), headers: names,
            body: collected.readBytes(length: collected.readableBytes) ?? [])
    }

    public static func get(_ url: String) async throws -> TestResponse { try await request("GET", url) }

    public static func post(_ url: String, json: String) async throws -> TestResponse {
        try await request("POST", url, json: json)
    }
}

extension JSONValue {
    /// The string at a member path such as `counts.succeeded`, for assertions.
    public func at(_ path: String) -> JSONValue? {
        var current: JSONValue? = self
        for key in path.split(separator: ".") { current = current?[String(key)] }
        return current
    }

}
