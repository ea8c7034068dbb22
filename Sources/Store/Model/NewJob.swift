import Foundation

/// A task as submitted, validated by the API.
public struct NewTask: Sendable {
    public var request: FetchRequest
    /// Lower-cased host of `request.url`, used for per-host limits.
    public var host: String
    public var timeoutMillis: Int
    public var maxAttempts: Int
    public var priority: Int
    /// Not claimed before this time (ms since the epoch); nil means at once.
    public var notBefore: Int64?
    /// Backoff overrides; nil means the service's defaults.
    public var retryBaseMillis: Int?
    public var retryMaxMillis: Int?
    /// Ask for compressed answers and store the body decoded (`decode_content`).
    public var decodeContent = false

    public init(
        request: FetchRequest, host: String, timeoutMillis: Int, maxAttempts: Int = 1, priority: Int = 0,
        notBefore: Int64? = nil, retryBaseMillis: Int? = nil, retryMaxMillis: Int? = nil, decodeContent: Bool = false
    ) {
        self.decodeContent = decodeContent
        self.request = request
        self.host = host
        self.timeoutMillis = timeoutMillis
        self.maxAttempts = maxAttempts
        self.priority = priority
        self.notBefore = notBefore
        self.retryBaseMillis = retryBaseMillis
        self.retryMaxMillis = retryMaxMillis
    }
}

/// A job as submitted: its tasks in order, and where to call back.
public struct NewJob: Sendable {
    public var tasks: [NewTask]
    public var timeoutMillis: Int
    public var callback: Callback?
    /// Takes more tasks until sealed (`Store.append`, `Store.seal`); it cannot finish before.
    public var open: Bool
    /// Whether its GET and HEAD tasks obey robots.txt.
    public var robots: RobotsMode
    /// Its own per-host limits, on top of the service's.
    public var hostLimits: JobHostLimits?
    /// Tasks repeating one already in the job (method, URL, body) are not created (`unique_urls`).
    public var uniqueURLs = false

    public init(
        tasks: [NewTask], timeoutMillis: Int, callback: Callback? = nil, open: Bool = false,
        robots: RobotsMode = .ignore, hostLimits: JobHostLimits? = nil
    ) {
        self.tasks = tasks
        self.open = open
        self.robots = robots
        self.hostLimits = hostLimits
        self.timeoutMillis = timeoutMillis
        self.callback = callback
    }
}
