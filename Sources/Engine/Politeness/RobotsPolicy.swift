/// How the engine treats robots.txt for the tasks that obey it: how long an answer is kept, how
/// long its tasks wait for one that fails, and the longest Crawl-delay honoured.
public struct RobotsPolicy: Sendable {
    /// How long a node keeps an origin's robots.txt before fetching it again (`--robots-ttl-ms`).
    public var ttlMillis: Int
    /// How long obeying tasks wait for a robots.txt that fails before they fail with
    /// `robots_unavailable` (`--robots-unavailable-ms`).
    public var unavailableMillis: Int
    /// The longest Crawl-delay honoured (`--max-crawl-delay-ms`).
    public var maxCrawlDelayMillis: Int
    /// The most of a robots.txt read (RFC 9309 asks for at least 500 KiB).
    public var maxBytes = 500 * 1024
    /// Redirects followed to reach it (RFC 9309: at least five).
    public var maxRedirects = 5
    /// Time limit of one robots.txt fetch.
    public var timeoutMillis = 10_000

    public init(ttlMillis: Int = 86_400_000, unavailableMillis: Int = 600_000, maxCrawlDelayMillis: Int = 30_000) {
        self.ttlMillis = ttlMillis
        self.unavailableMillis = unavailableMillis
        self.maxCrawlDelayMillis = maxCrawlDelayMillis
    }

    /// The wait before fetching a failing robots.txt again: 1 s, doubling per failure, at most a
    /// minute.
    func retryDelayMillis(failures: Int) -> Int64 {
        Int64(min(60_000, 1_000 << min(max(0, failures - 1), 6)))
    }
}
