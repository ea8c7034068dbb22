/// One host[:port] as `GET /v1/hosts` lists it: its queue in the store and what the engine saw.
public struct HostRecord: Sendable, Equatable {
    public var host: String
    public var inFlight = 0
    /// Requests it may have in flight now (adapted), and at most (`--per-host-concurrency`).
    public var limit = 0
    public var maxLimit = 0
    /// Due tasks of this host waiting to be claimed.
    public var queuedDue = 0
    public var pausedUntil: Int64?
    public var lastStatus: Int?
    public var lastError: String?
    public var recentSucceeded = 0
    public var recentFailed = 0
    public var recentRetried = 0
    public var latencyP50Millis: Int?
    public var latencyP95Millis: Int?
    /// Its robots.txt, once a task that obeys it was claimed on this node.
    public var robots: HostRobots?

    public init(host: String) { self.host = host }
}

/// A page of hosts, busiest first.
public struct HostPage: Sendable {
    public let hosts: [HostRecord]
    /// Pass back to get the next page; nil on the last page.
    public let nextCursor: String?

    public init(hosts: [HostRecord], nextCursor: String?) {
        self.hosts = hosts
        self.nextCursor = nextCursor
    }
}
