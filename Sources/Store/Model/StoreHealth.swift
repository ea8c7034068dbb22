import Foundation

/// Whether a store takes writes now, as `/healthz` reports it.
public enum StoreHealth: Sendable, Equatable {
    case ok
    /// Writes fail for lack of disk space since `since` (epoch milliseconds): submissions get 507.
    case full(since: Int64)
    /// The database cannot be reached since `since`: the API answers 503 until it comes back.
    case unavailable(since: Int64, reason: String)
}
