import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Performs one `FetchOrder` with AsyncHTTPClient: follows redirects itself (so every hop is seen),
/// bounds the whole request by the order's budget, and keeps at most `maxBodyBytes` of the body.
public struct Fetcher: Sendable {
    public static let maxRedirects = 5
    static let redirectStatuses: Set<UInt> = [301, 302, 303, 307, 308]
    /// Headers that must not follow a redirect to another origin.
    static let credentialHeaders: Set<String> = ["authorization", "cookie", "proxy-authorization", "host"]

    let client: HTTPClient
    let userAgent: String

    public init(client: HTTPClient, userAgent: String) {
        self.client = client
        self.userAgent = userAgent
    }

    public func fetch(_ order: FetchOrder) async -> FetchResult {
        let start = ContinuousClock.now
        func elapsedMillis() -> Int {
            let elapsed = ContinuousClock.now - start
            return Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        }
        do {
            let response = try await withTimeLimit(.milliseconds(order.timeoutMillis)) {
                try await self.followRedirects(order)
            }
            return FetchResult(
                lease: order.lease, statusCode: response.status, headers: response.headers, body: response.body,
                bodyTruncated: response.truncated, durationMillis: elapsedMillis())
        } catch {
            return FetchResult(lease: order.lease, durationMillis: elapsedMillis(), failure: classify(error, order))
        }
    }

    private struct Response: Sendable {
        var status: Int
        var headers: [HeaderField]
        var body: [UInt8]
        var truncated: Bool
    }

    private func followRedirects(_ order: FetchOrder) async throws -> Response {
        var url = order.url
        var method = order.method
        var headers = order.headers
        var body = order.body
        var visited: Set<String> = [url]
        for hop in 0...Self.maxRedirects {
            var request = HTTPClientRequest(url: url)
            request.method = HTTPMethod(rawValue: method)
            for field in headers { request.headers.add(name: field.name, value: field.value) }
            if !request.headers.contains(name: "user-agent") {
                request.headers.add(name: "user-agent", value: userAgent)
            }
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
            let response = try await client.execute(request, timeout: .milliseconds(Int64(order.timeoutMillis)))
            let status = Int(response.status.code)

            guard Self.redirectStatuses.contains(response.status.code),
                let location = response.headers.first(name: "location")
            else {
                let (bytes, truncated) = try await Self.read(response.body, upTo: order.maxBodyBytes)
                return Response(
                    status: status, headers: response.headers.map { HeaderField($0.name, $0.value) }, body: bytes,
                    truncated: truncated)
            }
            guard hop < Self.maxRedirects else {
                throw FetchFailure(.tooManyRedirects, "more than \(Self.maxRedirects) redirects, last to \(location)")
            }
            guard let current = URL(string: url), let next = URL(string: location, relativeTo: current)?.absoluteURL,
                let scheme = next.scheme?.lowercased(), scheme == "http" || scheme == "https", next.host != nil
            else { throw FetchFailure(.invalidRedirect, "cannot follow redirect to \(location)") }
            _ = try? await Self.read(response.body, upTo: 64 * 1024)

            if status == 303 && method != "HEAD" || (status == 301 || status == 302) && method == "POST" {
                method = "GET"
                body = nil
                headers.removeAll { ["content-type", "content-length"].contains($0.name.lowercased()) }
            }
            if !Self.sameOrigin(current, next) {
                headers.removeAll { Self.credentialHeaders.contains($0.name.lowercased()) }
            }
            url = next.absoluteString
            guard visited.insert(url).inserted else {
                throw FetchFailure(.tooManyRedirects, "redirect loop back to \(url)")
            }
        }
        throw FetchFailure(.tooManyRedirects, "more than \(Self.maxRedirects) redirects")
    }

    /// Reads at most `limit` bytes of a body; stops reading (closing the connection) past that.
    private static func read(_ body: HTTPClientResponse.Body, upTo limit: Int) async throws -> ([UInt8], Bool) {
        var bytes: [UInt8] = []
        for try await chunk in body {
            let room = limit - bytes.count
            if chunk.readableBytes > room {
                bytes.append(contentsOf: chunk.readableBytesView.prefix(room))
                return (bytes, true)
            }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return (bytes, false)
    }

    private static func sameOrigin(_ lhs: URL, _ rhs: URL) -> Bool {
        lhs.scheme?.lowercased() == rhs.scheme?.lowercased() && lhs.host?.lowercased() == rhs.host?.lowercased()
            && lhs.port == rhs.port
    }

    private func classify(_ error: any Error, _ order: FetchOrder) -> FetchFailure {
        if let failure = error as? FetchFailure { return failure }
        if let blocked = error as? BlockedDestination { return FetchFailure(.blockedDestination, blocked.description) }
        if error is CancellationError || Task.isCancelled { return FetchFailure(.canceled, "the task was canceled") }
        if let clientError = error as? HTTPClientError {
            if [.invalidURL, .emptyHost, .emptyScheme].contains(clientError) {
                return FetchFailure(.invalidURL, "\(clientError)")
            }
            if clientError == .cancelled { return FetchFailure(.canceled, "the task was canceled") }
            if clientError == .deadlineExceeded {
                return FetchFailure(.timeout, "no response within \(order.timeoutMillis) ms")
            }
            return FetchFailure(.connectionFailed, "\(clientError)")
        }
        return FetchFailure(.connectionFailed, String(describing: error))
    }
}

/// Runs `body`, throwing a `timeout` failure if it has not finished within `limit`.
func withTimeLimit<T: Sendable>(
    _ limit: Duration, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw FetchFailure(
                .timeout,
                "no complete response within \(limit.components.seconds * 1000 + limit.components.attoseconds / 1_000_000_000_000_000) ms"
            )
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw CancellationError() }
        return first
    }
}
