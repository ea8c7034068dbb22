/// A job's own politeness (`per_host_concurrency`, `per_host_interval_ms`): its tasks never have
/// more than `concurrency` requests in flight to one host, nor start closer together than
/// `intervalMillis`. The service's per-host limits hold as well; the stricter wins.
public struct JobHostLimits: Sendable, Equatable, Hashable {
    public var concurrency: Int?
    public var intervalMillis: Int?

    public init(concurrency: Int?, intervalMillis: Int?) {
        self.concurrency = concurrency
        self.intervalMillis = intervalMillis
    }

    /// How many of the job's requests one host may have in flight, from none: one at a time when
    /// an interval is set.
    public var inFlightLimit: Int {
        let limit = concurrency ?? .max
        return (intervalMillis ?? 0) > 0 ? min(1, limit) : limit
    }

    /// Nil when neither is set.
    public static func unless(concurrency: Int?, intervalMillis: Int?) -> JobHostLimits? {
        concurrency == nil && (intervalMillis ?? 0) == 0
            ? nil : JobHostLimits(concurrency: concurrency, intervalMillis: intervalMillis)
    }
}

/// One job's tasks to one host: the unit of a job's own politeness.
public struct JobHostKey: Sendable, Hashable {
    public let jobSeq: Int64
    public let host: String

    public init(jobSeq: Int64, host: String) {
        self.jobSeq = jobSeq
        self.host = host
    }
}
