import AsyncHTTPClient
import ContentDecoding
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Store

/// Performs `FetchOrder`s with AsyncHTTPClient's event-loop API: follows redirects itself (so every
/// hop is seen), bounds the whole request (every hop and the body) by the order's budget, and keeps
/// at most `maxBodyBytes` of the body.
///
/// The event-loop API, not async/await: a fetch then runs on its connection's event loop from start
/// to result, with no task, task group, actor or async body sequence per request. Profiled, that
/// glue was about as much of a worker's CPU as the HTTP work itself.
public struct Fetcher: Sendable {
    public static let maxRedirects = 5
    static let redirectStatuses: Set<UInt> = [301, 302, 303, 307, 308]
    /// Headers that must not follow a redirect to another origin.
    static let credentialHeaders: Set<String> = ["authorization", "cookie", "proxy-authorization", "host"]
    /// Bytes of a redirect's own body read before it is dropped.
    static let redirectBodyBytes = 64 * 1024

    let client: HTTPClient
    let userAgent: String
    /// Checked before each hop to an IP literal (the client checks every connection it makes, but
    /// only once it is made, and for https after its handshake).
    let destinations: DestinationGuard

    public init(client: HTTPClient, userAgent: String, destinations: DestinationGuard) {
        self.client = client
        self.userAgent = userAgent
        self.destinations = destinations
    }

    /// A fetch of `order`, not yet started; `completion` will run once with its result, on an
    /// event loop (or at once, from `start`, if the request cannot even be made).
    public func prepare(_ order: FetchOrder, completion: @escaping @Sendable (FetchResult) -> Void) -> RunningFetch {
        RunningFetch(order: order, fetcher: self, completion: completion)
    }

    /// One request of a fetch: the first, or one that follows a redirect.
    struct Hop: Sendable {
        var url: String
        var method: String
        var headers: [HeaderField]
        var body: [UInt8]?
        var number: Int
    }

    /// What a fetch that decodes its body asks for, unless the task sets its own `Accept-Encoding`.
    static let decodedEncodings = "gzip, deflate, br"

    func request(for hop: Hop, decoding: Bool = false) throws -> HTTPClient.Request {
        var headers = HTTPHeaders()
        for field in hop.headers { headers.add(name: field.name, value: field.value) }
        if !headers.contains(name: "user-agent") { headers.add(name: "user-agent", value: userAgent) }
        if decoding && !headers.contains(name: "accept-encoding") {
            headers.add(name: "accept-encoding", value: Self.decodedEncodings)
        }
        return try HTTPClient.Request(
            url: hop.url, method: HTTPMethod(rawValue: hop.method), headers: headers, body: hop.body.map { .bytes($0) })
    }

    /// The hop after a redirect to `location`, or the reason not to follow it.
    static func hop(after hop: Hop, status: Int, location: String) throws(FetchFailure) -> Hop {
        guard hop.number < maxRedirects else {
            throw FetchFailure(.tooManyRedirects, "more than \(maxRedirects) redirects, last to \(location)")
        }
        guard let current = URL(string: hop.url), let next = URL(string: location, relativeTo: current)?.absoluteURL,
            let scheme = next.scheme?.lowercased(), scheme == "http" || scheme == "https", next.host != nil
        else { throw FetchFailure(.invalidRedirect, "cannot follow redirect to \(location)") }
        var following = Hop(
            url: next.absoluteString, method: hop.method, headers: hop.headers, body: hop.body, number: hop.number + 1)
        if status == 303 && hop.method != "HEAD" || (status == 301 || status == 302) && hop.method == "POST" {
            following.method = "GET"
            following.body = nil
            following.headers.removeAll { ["content-type", "content-length"].contains($0.name.lowercased()) }
        }
        if !sameOrigin(current, next) {
            following.headers.removeAll { credentialHeaders.contains($0.name.lowercased()) }
        }
        return following
    }

    private static func sameOrigin(_ lhs: URL, _ rhs: URL) -> Bool {
        lhs.scheme?.lowercased() == rhs.scheme?.lowercased() && lhs.host?.lowercased() == rhs.host?.lowercased()
            && lhs.port == rhs.port
    }

    /// What went wrong, in the terms of a `FetchFailure`. A fetch whose budget has run out failed by
    /// timeout, whatever the client reports (a deadline that passes while the request waits for a
    /// connection is reported as a connection error).
    /// `host` is the host of the request that failed.
    static func classify(_ error: any Error, _ order: FetchOrder, host: String, elapsedMillis: Int, canceled: Bool)
        -> FetchFailure
    {
        if canceled { return .canceledTask }
        if let failure = error as? FetchFailure { return failure }
        if let blocked = error as? BlockedDestination { return FetchFailure(.blockedDestination, blocked.description) }
        if elapsedMillis >= order.timeoutMillis { return timedOut(order) }
        if let failure = TLSFailure.failure(for: error, host: host) { return failure }
        if let clientError = error as? HTTPClientError {
            if [.invalidURL, .emptyHost, .emptyScheme].contains(clientError) {
                return FetchFailure(.invalidURL, NetworkFailure.sentence(for: clientError, host: host))
            }
            if clientError == .deadlineExceeded { return timedOut(order) }
        }
        return FetchFailure(.connectionFailed, NetworkFailure.sentence(for: error, host: host))
    }

    static func timedOut(_ order: FetchOrder) -> FetchFailure {
        FetchFailure(.timeout, "timed out after \(order.timeoutMillis) ms")
    }
}

/// A fetch under way: its current request, so that it can be canceled, and what remains to do.
public final class RunningFetch: Sendable {
    private struct State {
        var task: HTTPClient.Task<CollectedResponse>?
        var canceled = false
        var visited: Set<String> = []
    }

    private let order: FetchOrder
    private let fetcher: Fetcher
    private let completion: @Sendable (FetchResult) -> Void
    private let started = ContinuousClock.now
    private let deadline: NIODeadline
    private let state = NIOLockedValueBox(State())

    init(order: FetchOrder, fetcher: Fetcher, completion: @escaping @Sendable (FetchResult) -> Void) {
        self.order = order
        self.fetcher = fetcher
        self.completion = completion
        self.deadline = .now() + .milliseconds(Int64(order.timeoutMillis))
    }

    /// Sends the first request.
    public func start() {
        send(Fetcher.Hop(url: order.url, method: order.method, headers: order.headers, body: order.body, number: 0))
    }

    /// Aborts the fetch; it then completes as `canceled`.
    public func cancel() {
        let task = state.withLockedValue { state in
            state.canceled = true
            return state.task
        }
        task?.cancel()
    }

    private var elapsedMillis: Int {
        let elapsed = ContinuousClock.now - started
        return Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
    }

    private func send(_ hop: Fetcher.Hop) {
        guard state.withLockedValue({ $0.visited.insert(hop.url).inserted }) else {
            return fail(FetchFailure(.tooManyRedirects, "redirect loop back to \(hop.url)"))
        }
        let request: HTTPClient.Request
        do {
            request = try fetcher.request(for: hop, decoding: order.decodeContent)
        } catch {
            return fail(error)
        }
        if fetcher.destinations.refuses(request.host) {
            return fail(BlockedDestination(address: request.host))
        }
        let collector = ResponseCollector(bodyLimit: order.maxBodyBytes, decoding: order.decodeContent)
        let task = fetcher.client.execute(request: request, delegate: collector, deadline: deadline)
        let canceled = state.withLockedValue { state in
            state.task = task
            return state.canceled
        }
        if canceled { task.cancel() }
        task.futureResult.whenComplete { outcome in
            switch outcome {
            case .success(let response):
                self.received(response, for: hop)
            case .failure(let error):
                // A body cut at the limit ends the request early, and still counts as a response.
                if let cut = collector.truncatedResponse, !canceled {
                    self.received(cut, for: hop)
                } else {
                    self.fail(error, request: request)
                }
            }
        }
    }

    private func received(_ response: CollectedResponse, for hop: Fetcher.Hop) {
        if Fetcher.redirectStatuses.contains(UInt(response.status)),
            let location = response.headers.first(where: { $0.name.lowercased() == "location" })?.value
        {
            do {
                return send(try Fetcher.hop(after: hop, status: response.status, location: location))
            } catch {
                return fail(error)
            }
        }
        completion(
            FetchResult(
                lease: order.lease, statusCode: response.status, headers: response.headers, body: response.body,
                bodyTruncated: response.truncated, durationMillis: elapsedMillis, decodedFrom: response.decodedFrom))
    }

    /// Ends the fetch with `error`, met by `request` if one was sent. A certificate that did not
    /// verify is looked at again for the cause (`CertificateDiagnosis`), within what is left of
    /// the budget.
    private func fail(_ error: any Error, request: HTTPClient.Request? = nil) {
        let canceled = state.withLockedValue { $0.canceled }
        let elapsed = elapsedMillis
        let failure = Fetcher.classify(
            error, order, host: request?.host ?? "", elapsedMillis: elapsed, canceled: canceled)
        let left = order.timeoutMillis - elapsed
        guard failure.kind == .tlsError, TLSFailure.isUnverifiedChain(error), let request, left > 0 else {
            return finish(failure)
        }
        CertificateDiagnosis.diagnose(
            host: request.host, port: request.port, destinations: fetcher.destinations,
            on: fetcher.client.eventLoopGroup.next(), timeout: .milliseconds(Int64(min(left, 5_000)))
        ).whenSuccess { self.finish($0) }
    }

    private func finish(_ failure: FetchFailure) {
        completion(FetchResult(lease: order.lease, durationMillis: elapsedMillis, failure: failure))
    }
}

/// A response as `ResponseCollector` kept it.
struct CollectedResponse: Sendable {
    var status: Int
    var headers: [HeaderField]
    var body: [UInt8]
    var truncated: Bool
    /// The `Content-Encoding` removed from `body`, when the fetch decodes.
    var decodedFrom: String? = nil
}

/// Collects one response: its head, and its body up to a limit. Past the limit it stops reading
/// (the connection is closed) and the response counts as complete, marked truncated. A fetch that
/// decodes (`decode_content`) runs a gzip, deflate or br body through a `ContentDecoder` as it
/// arrives: the limit counts decoded bytes, and no more than that is ever held, however far the
/// body would inflate; a corrupt or cut stream fails the fetch with `decode_error`.
///
/// `@unchecked Sendable` is safe: AsyncHTTPClient calls a delegate on its task's event loop, one
/// call at a time, and the collected response leaves only through `didFinishRequest`.
final class ResponseCollector: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = CollectedResponse

    /// Thrown from the body callback to stop reading once the limit is reached.
    private struct LimitReached: Error {}

    private let bodyLimit: Int
    private let decoding: Bool
    private var response = CollectedResponse(status: 0, headers: [], body: [], truncated: false)
    private var limit: Int
    private var decoder: ContentDecoder?

    init(bodyLimit: Int, decoding: Bool = false) {
        self.bodyLimit = bodyLimit
        self.limit = bodyLimit
        self.decoding = decoding
    }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        response.status = Int(head.status.code)
        response.headers = head.headers.map { HeaderField($0.name, $0.value) }
        // A redirect's own body is dropped: read a little of it, not the whole limit.
        if Fetcher.redirectStatuses.contains(head.status.code), head.headers.contains(name: "location") {
            limit = min(bodyLimit, Fetcher.redirectBodyBytes)
        } else if decoding {
            let value = head.headers[canonicalForm: "content-encoding"].joined(separator: ", ")
            if case .codings(let codings) = ContentCoding.parse(value) {
                do {
                    decoder = try ContentDecoder(codings: codings, limit: bodyLimit)
                    response.decodedFrom = codings.map(\.rawValue).joined(separator: ", ")
                } catch {
                    return task.eventLoop.makeFailedFuture(FetchFailure(.decodeError, error.description))
                }
            }
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        if let decoder {
            do {
                let progress = try buffer.withUnsafeReadableBytes { bytes throws(ContentDecodingError) in
                    try decoder.feed(bytes, into: &response.body)
                }
                guard progress == .limitReached else { return task.eventLoop.makeSucceededVoidFuture() }
                response.truncated = true
                return task.eventLoop.makeFailedFuture(LimitReached())
            } catch {
                return task.eventLoop.makeFailedFuture(FetchFailure(.decodeError, error.description))
            }
        }
        let room = limit - response.body.count
        guard buffer.readableBytes > room else {
            response.body.append(contentsOf: buffer.readableBytesView)
            return task.eventLoop.makeSucceededVoidFuture()
        }
        response.body.append(contentsOf: buffer.readableBytesView.prefix(room))
        response.truncated = true
        return task.eventLoop.makeFailedFuture(LimitReached())
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        do {
            try decoder?.finish()
        } catch {
            throw FetchFailure(.decodeError, error.description)
        }
        return response
    }

    func didReceiveError(task: HTTPClient.Task<Response>, _ error: any Error) {}

    /// A response cut at the limit is complete for fetchq's purposes.
    var truncatedResponse: CollectedResponse? { response.truncated ? response : nil }
}
