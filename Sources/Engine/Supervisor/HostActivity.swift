/// What recently happened at one host: the last answer, and the outcomes and durations of its
/// latest attempts. Kept by `EngineStatus` for `GET /v1/hosts`; never read on the scheduler's path.
public struct HostActivity: Sendable, Equatable {
    /// One finished attempt.
    public struct Attempt: Sendable, Equatable {
        /// Where the attempt sent its task.
        public enum Result: Sendable, Equatable {
            case succeeded, failed, retried
        }

        public let at: Int64
        public let result: Result
        public let durationMillis: Int?
    }

    /// How many attempts per host are kept for the recent counts and latency percentiles.
    public static let kept = 256

    public private(set) var lastSeenAt: Int64 = 0
    public private(set) var lastStatus: Int?
    public private(set) var lastError: String?
    /// Oldest first, at most `kept`.
    public private(set) var attempts: [Attempt] = []

    mutating func record(_ attempt: Attempt, status: Int?, error: String?) {
        lastSeenAt = max(lastSeenAt, attempt.at)
        lastStatus = status
        lastError = error
        if attempts.count >= Self.kept { attempts.removeFirst(attempts.count - Self.kept + 1) }
        attempts.append(attempt)
    }

    /// Counts of the attempts that ended at or after `since`.
    public func recent(since: Int64) -> (succeeded: Int, failed: Int, retried: Int) {
        var counts = (succeeded: 0, failed: 0, retried: 0)
        for attempt in attempts where attempt.at >= since {
            switch attempt.result {
            case .succeeded: counts.succeeded += 1
            case .failed: counts.failed += 1
            case .retried: counts.retried += 1
            }
        }
        return counts
    }

    /// The `fraction` percentile (0...1) of the kept attempts' durations; nil when none has one.
    public func latencyMillis(percentile fraction: Double) -> Int? {
        let durations = attempts.compactMap(\.durationMillis).sorted()
        guard !durations.isEmpty else { return nil }
        let index = Int((Double(durations.count - 1) * fraction).rounded())
        return durations[min(durations.count - 1, max(0, index))]
    }
}
