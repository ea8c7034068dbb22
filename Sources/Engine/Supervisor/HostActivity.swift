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

    /// How many attempts per host are kept for the latency percentiles.
    public static let kept = 256

    public private(set) var lastSeenAt: Int64 = 0
    public private(set) var lastStatus: Int?
    public private(set) var lastError: String?
    /// Oldest first, at most `kept`.
    public private(set) var attempts: [Attempt] = []
    /// Every attempt of the last `RecentCounts.windowMillis`, counted.
    private var counts = RecentCounts()

    mutating func record(_ attempt: Attempt, status: Int?, error: String?) {
        lastSeenAt = max(lastSeenAt, attempt.at)
        lastStatus = status
        lastError = error
        if attempts.count >= Self.kept { attempts.removeFirst(attempts.count - Self.kept + 1) }
        attempts.append(attempt)
        counts.add(attempt.result, at: attempt.at)
    }

    /// Counts of the attempts that ended at or after `since` (to `RecentCounts.stepMillis`, and no
    /// further back than `RecentCounts.windowMillis`), however many they were.
    public func recent(since: Int64) -> (succeeded: Int, failed: Int, retried: Int) {
        counts.total(since: since)
    }

    /// The `fraction` percentile (0...1) of the kept attempts' durations; nil when none has one.
    public func latencyMillis(percentile fraction: Double) -> Int? {
        let durations = attempts.compactMap(\.durationMillis).sorted()
        guard !durations.isEmpty else { return nil }
        let index = Int((Double(durations.count - 1) * fraction).rounded())
        return durations[min(durations.count - 1, max(0, index))]
    }
}
