/// A host's robots.txt as the node saw it, for `GET /v1/hosts`.
public struct HostRobots: Sendable, Equatable {
    public enum State: String, Sendable {
        /// It answered 4xx (or more redirects than followed): no restrictions.
        case allowed
        /// It answered 2xx: its rules apply.
        case rules
        /// It failed (5xx, a timeout, no connection): obeying tasks wait.
        case unavailable
    }

    /// Nil until the first fetch ends.
    public var state: State?
    public var fetchedAt: Int64?
    /// Its Crawl-delay, as honoured (capped by `--max-crawl-delay-ms`).
    public var crawlDelayMillis: Int?

    public init(state: State?, fetchedAt: Int64?, crawlDelayMillis: Int?) {
        self.state = state
        self.fetchedAt = fetchedAt
        self.crawlDelayMillis = crawlDelayMillis
    }
}
