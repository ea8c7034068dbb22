/// One host's current limit, adapted to how it copes (additive increase, multiplicative decrease):
/// it starts at the ceiling (`--per-host-concurrency`), halves, never below 1, when the host shows
/// it is overloaded (a 429, a 503, a timeout, a connection failure), and grows by one after each
/// run of `current` answers without such a sign. A burst of failures from requests that were in
/// flight together halves it once: only a request sent after the last decrease can cause the next
/// one (a failure's start is its end less its latency), so the next decrease waits at least one
/// latency of the host.
struct AdaptiveLimit: Equatable {
    let ceiling: Int
    private(set) var current: Int
    private var answeredSinceChange = 0
    /// When the limit last went down; failures of requests sent before it belong to that burst.
    private var decreasedAt: Int64 = .min
    /// When it last changed, for forgetting hosts that went away.
    private(set) var changedAt: Int64

    init(ceiling: Int, now: Int64) {
        self.ceiling = max(1, ceiling)
        self.current = self.ceiling
        self.changedAt = now
    }

    /// The host showed it is overloaded by a request that took `latencyMillis`; answers whether
    /// the limit went down.
    mutating func overloaded(latencyMillis: Int, now: Int64) -> Bool {
        answeredSinceChange = 0
        guard now - Int64(latencyMillis) >= decreasedAt, current > 1 else { return false }
        current = max(1, current / 2)
        decreasedAt = now
        changedAt = now
        return true
    }

    /// The host answered without a sign of overload.
    mutating func answered(now: Int64) {
        guard current < ceiling else { return }
        answeredSinceChange += 1
        if answeredSinceChange >= current {
            current += 1
            answeredSinceChange = 0
            changedAt = now
        }
    }
}
