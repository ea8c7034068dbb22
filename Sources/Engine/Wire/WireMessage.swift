import Store

/// What the supervisor asks a worker process to do.
public enum Order: Sendable, Equatable {
    /// Perform this request and answer with a `Report.result` carrying the same lease.
    case fetch(FetchOrder)
    /// Abort the fetch holding this lease, if it is still running; its result may still arrive.
    /// An order still queued is dropped and reported canceled.
    case cancel(LeaseKey)
    /// Hand back every order still queued, unstarted (the supervisor drains).
    case handBack
}

/// What a worker process tells the supervisor.
public enum Report: Sendable, Equatable {
    case result(FetchResult)
    /// An order sent ahead that waited its longest for a free slot, or was asked back, and never
    /// started: its task goes back to the queue and the attempt does not count.
    case unstarted(LeaseKey)
}

/// Identifies one attempt of one task: the task's row and the attempt number (the lease token).
public struct LeaseKey: Hashable, Sendable {
    public let seq: Int64
    public let attempt: Int

    public init(seq: Int64, attempt: Int) {
        self.seq = seq
        self.attempt = attempt
    }
}

/// One HTTP request for a worker to perform.
public struct FetchOrder: Sendable, Equatable {
    public var lease: LeaseKey
    public var url: String
    public var method: String
    public var headers: [HeaderField]
    public var body: [UInt8]?
    /// Budget for the whole request, redirects and body included.
    public var timeoutMillis: Int
    /// Bytes of the response body to keep; the rest is dropped and the result marked truncated.
    public var maxBodyBytes: Int
    /// Ask for gzip, deflate and br (unless the task asks otherwise) and keep the body decoded, up
    /// to `maxBodyBytes` decoded.
    public var decodeContent: Bool

    public init(
        lease: LeaseKey, url: String, method: String, headers: [HeaderField], body: [UInt8]?, timeoutMillis: Int,
        maxBodyBytes: Int, decodeContent: Bool = false
    ) {
        self.decodeContent = decodeContent
        self.lease = lease
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeoutMillis = timeoutMillis
        self.maxBodyBytes = maxBodyBytes
    }
}

/// What happened to one `FetchOrder`.
public struct FetchResult: Sendable, Equatable {
    public var lease: LeaseKey
    /// Status of the final response; nil when none arrived.
    public var statusCode: Int?
    public var headers: [HeaderField]
    public var body: [UInt8]
    public var bodyTruncated: Bool
    public var durationMillis: Int
    /// Set when no final response arrived.
    public var failure: FetchFailure?
    /// The `Content-Encoding` removed from `body` (the order asked to decode it).
    public var decodedFrom: String?

    public init(
        lease: LeaseKey, statusCode: Int? = nil, headers: [HeaderField] = [], body: [UInt8] = [],
        bodyTruncated: Bool = false, durationMillis: Int, failure: FetchFailure? = nil, decodedFrom: String? = nil
    ) {
        self.decodedFrom = decodedFrom
        self.lease = lease
        self.statusCode = statusCode
        self.headers = headers
        self.body = body
        self.bodyTruncated = bodyTruncated
        self.durationMillis = durationMillis
        self.failure = failure
    }
}

/// Why a fetch ended without a final response. `kind` is the stable code users see as `error`.
public struct FetchFailure: Sendable, Equatable, Error {
    public enum Kind: String, Sendable, CaseIterable {
        /// The whole-request budget (`timeout_ms`) ran out.
        case timeout
        /// DNS or connect failed, or the connection broke (in the TLS handshake too) before a full
        /// response.
        case connectionFailed = "connection_failed"
        /// The server's certificate did not verify or does not match the host name, or the TLS
        /// handshake failed.
        case tlsError = "tls_error"
        /// More than the allowed number of redirects, or a redirect loop.
        case tooManyRedirects = "too_many_redirects"
        /// A redirect without a usable `Location`.
        case invalidRedirect = "invalid_redirect"
        /// The URL could not be used (bad scheme, no host).
        case invalidURL = "invalid_url"
        /// The destination's address is private or reserved, and the guard refused it.
        case blockedDestination = "blocked_destination"
        /// The fetch was aborted because its task was canceled.
        case canceled
        /// The body was to be decoded (`decode_content`) and its compressed stream was corrupt or
        /// cut short.
        case decodeError = "decode_error"
        /// Anything else the HTTP client reported.
        case other

        /// Whether another attempt might succeed.
        public var isRetryable: Bool {
            switch self {
            case .timeout, .connectionFailed, .other: true
            case .tlsError, .tooManyRedirects, .invalidRedirect, .invalidURL, .blockedDestination, .canceled,
                .decodeError:
                false
            }
        }
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The failure of a fetch aborted, or dropped from a worker's queue, because its task was canceled.
    public static let canceledTask = FetchFailure(.canceled, "the task was canceled")
}
