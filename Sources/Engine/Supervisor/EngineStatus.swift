import NIOConcurrencyHelpers
import Store

/// A read-only view of the scheduler's state for the API: per-host slots and pauses, free worker
/// slots, workers alive, and each host's recent activity. The scheduler publishes it once per turn
/// of its loop (a copy-on-write assignment plus the attempts of that turn, under one lock); reads
/// compute what they answer under that lock, so asking costs the scheduler nothing but the wait.
public final class EngineStatus: Sendable {
    /// The scheduler's state at its last turn.
    public struct Snapshot: Sendable {
        var limits = HostLimits(concurrency: 0, intervalMillis: 0)
        /// Tasks that running workers could still take.
        public internal(set) var freeSlots = 0
        public internal(set) var workersLive = 0
        /// Hosts seen in the last hour, by host[:port].
        public internal(set) var activity: [String: HostActivity] = [:]
        var prunedAt: Int64 = 0
        /// robots.txt by host, as last published.
        public internal(set) var robots: [String: HostRobots] = [:]

        /// Requests one host may have in flight at once, at most (`--per-host-concurrency`).
        public var perHostLimit: Int { limits.concurrency }

        /// Requests `host` may have in flight now: its adapted limit, or the ceiling.
        public func limit(of host: String) -> Int { limits.limit(of: host) }

        /// Requests in flight to `host`, its pause, and whether it is at its limit, at `now`.
        public func host(_ host: String, now: Int64) -> (inFlight: Int, pausedUntil: Int64?, full: Bool) {
            let status = limits.status(of: host, now: now)
            return (status.inFlight, status.pausedUntil, status.full)
        }

        /// Hosts with requests in flight or a pause.
        public var trackedHosts: [String] { limits.tracked }
    }

    /// How long a host stays listed after its last attempt.
    public static let activityWindowMillis: Int64 = 3_600_000

    private let state = NIOLockedValueBox(Snapshot())

    public init() {}

    /// Reads the scheduler's last view in place, under the lock (no copy, so the scheduler's next
    /// publish does not have to copy what a reader still holds). Keep `body` short.
    public func read<T>(_ body: (Snapshot) throws -> T) rethrows -> T {
        try state.withLockedValue { try body($0) }
    }

    /// One turn of the scheduler: its host limits and slots, and the attempts that ended in it.
    func publish(
        limits: HostLimits, freeSlots: Int, workersLive: Int,
        attempts: [(host: String, HostActivity.Attempt, Int?, String?)], robots: [String: HostRobots]? = nil
    ) {
        state.withLockedValue { snapshot in
            if let robots { snapshot.robots = robots }
            snapshot.limits = limits
            snapshot.freeSlots = freeSlots
            snapshot.workersLive = workersLive
            for (host, attempt, status, error) in attempts {
                snapshot.activity[host, default: HostActivity()].record(attempt, status: status, error: error)
            }
        }
    }

    /// Forgets hosts not seen for an hour; called on the engine's tick, does the work once a minute.
    func prune(now: Int64) {
        state.withLockedValue { snapshot in
            guard now - snapshot.prunedAt >= 60_000 else { return }
            snapshot.prunedAt = now
            snapshot.activity = snapshot.activity.filter { now - $0.value.lastSeenAt < Self.activityWindowMillis }
        }
    }
}
