/// A request as handed to a handler: copied out of libmicrohttpd, so it outlives the connection.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path, percent-decoded, without the query.
    public var path: String
    /// Query arguments, decoded. A key given twice keeps its last value.
    public var query: [String: String]
    /// Header values by lower-cased name.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(
        method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:],
        body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// A response to send.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// When set, the body is sent from this stream, chunked, and `body` is ignored.
    public var stream: HTTPBodyStream?

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: Int, headers: [(String, String)] = [], stream: HTTPBodyStream) {
        self.init(status: status, headers: headers)
        self.stream = stream
    }
}

/// A body made piece by piece while it is sent (`Transfer-Encoding: chunked`), so a large answer
/// never sits in memory whole. `next` is called from Swift concurrency whenever the client can take
/// more, never for two pieces at once, while the connection waits suspended. It answers the next
/// bytes, or nil at the end; an error aborts the response (the client sees it cut short).
public struct HTTPBodyStream: Sendable {
    public let next: @Sendable () async throws -> [UInt8]?

    public init(next: @escaping @Sendable () async throws -> [UInt8]?) { self.next = next }
}

/// How a handler answers: at once, on the server's own thread (for quick work such as a read from
/// SQLite), or later, from Swift concurrency while the connection is suspended (for anything that
/// waits: a durable write, a call into the engine). The work of a `.later` reply runs in the task
/// group of `HTTPServer.run()`; what it throws goes to `HTTPResponder.response(for:)`.
public enum Reply: Sendable {
    case now(HTTPResponse)
    case later(@Sendable () async throws -> HTTPResponse)
}

/// Turns a request into a reply. Called on one of libmicrohttpd's threads: must not block.
public typealias HTTPHandler = @Sendable (HTTPRequest) throws -> Reply
