import Foundation

/// How many more tasks each host may have in flight. Hosts not listed may have `defaultLimit`.
public struct HostAllowance: Sendable {
    public var defaultLimit: Int
    public var remaining: [String: Int]
    /// Hosts that asked for a pause (`429`/`503` with `Retry-After`), until when (epoch ms). Their
    /// `remaining` is already 0 here; a store that several nodes share records the pause so that
    /// it holds on every node.
    public var pausedUntil: [String: Int64]
    /// Hosts whose adapted limit changed since the last claim, and the limit now: a store that
    /// several nodes share records it so that it holds on every node.
    public var limitChanges: [String: Int] = [:]
    /// The jobs with politeness of their own that the engine knows of (it learns them from the tasks
    /// it claims), by job: a claim reads these jobs' candidates by job and host.
    public var jobLimits: [Int64: JobHostLimits] = [:]
    /// What each of those jobs may still have in flight to a host (a pair not listed: its
    /// `inFlightLimit`).
    public var jobRemaining: [JobHostKey: Int] = [:]

    public init(defaultLimit: Int = .max, remaining: [String: Int] = [:], pausedUntil: [String: Int64] = [:]) {
        self.defaultLimit = defaultLimit
        self.remaining = remaining
        self.pausedUntil = pausedUntil
    }
}
