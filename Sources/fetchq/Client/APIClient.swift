import AsyncHTTPClient
import Engine
import Foundation
import JSON
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The client's connection to the service: JSON requests with the token, answers as JSON, and
/// problem+json turned into a one-line `ClientFailure`.
///
/// Until the service has answered once, requests go through a client that does not retry a
/// refused connection: a server that is not there (a typo in `--server`, `fetchq serve` not
/// started) is told in a moment. Once it has answered, a refused connection is retried as a
/// restart needs (AsyncHTTPClient's connection retries, and `sending`'s own).
struct APIClient: Sendable {
    let http: HTTPClient
    let firstContact: HTTPClient
    let options: ClientOptions
    private let answered = NIOLockedValueBox(false)

    /// Runs `body` with a client that is shut down afterwards, whatever happens.
    static func with<T: Sendable>(
        _ options: ClientOptions, _ body: (APIClient) async throws -> T
    ) async throws -> T {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        let firstContact = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let client = APIClient(http: http, firstContact: firstContact, options: options)
        do {
            let result = try await body(client)
            try await firstContact.shutdown()
            try await http.shutdown()
            return result
        } catch {
            try? await firstContact.shutdown()
            try? await http.shutdown()
            throw error
        }
    }

    /// A response: its status, headers and whole body.
    struct Answer: Sendable {
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]

        var json: JSONValue { (try? JSONParser.parse(body)) ?? .null }
    }

    func request(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(120)
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: options.baseURL + path)
        request.method = method
        if let bearer = options.bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let answered = self.answered.withLockedValue { $0 }
        do {
            let response = try await (answered ? http : firstContact).execute(request, timeout: timeout)
            if !answered { self.answered.withLockedValue { $0 = true } }
            return response
        } catch {
            let host = URL(string: options.baseURL)?.host ?? options.baseURL
            if !answered && NetworkFailure.isConnectionRefused(error) {
                throw ClientFailure(
                    "nothing is listening at \(options.baseURL) — is `fetchq serve` running? set --server or"
                        + " FETCHQ_SERVER")
            }
            throw ClientFailure(
                "cannot reach \(options.baseURL): \(NetworkFailure.sentence(for: error, host: host))",
                retryable: answered)
        }
    }

    /// Sends a request and reads the whole answer (up to 64 MiB).
    func call(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(120)
    ) async throws -> Answer {
        let response = try await request(method, path, body: body, headers: headers, timeout: timeout)
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw ClientFailure("reading the answer to \(method) \(path) failed: \(error)")
        }
        return Answer(status: Int(response.status.code), headers: response.headers, body: Array(buffer: bytes))
    }

    /// Like `call`, but an answer that is not 2xx is a `ClientFailure` with the problem's detail.
    func expect(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(120)
    ) async throws -> Answer {
        let answer = try await call(method, path, body: body, headers: headers, timeout: timeout)
        guard (200..<300).contains(answer.status) else { throw Self.failure(answer, method, path) }
        return answer
    }

    static func failure(_ answer: Answer, _ method: HTTPMethod, _ path: String) -> ClientFailure {
        let problem = answer.json
        let detail = problem["detail"]?.stringValue ?? String(decoding: answer.body.prefix(300), as: UTF8.self)
        let field = problem["field"]?.stringValue.map { " (\($0))" } ?? ""
        return ClientFailure("\(method) \(path): \(answer.status) \(detail)\(field)")
    }
}
