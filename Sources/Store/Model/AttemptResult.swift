import Foundation

/// Where a finished attempt sends its task.
public enum Disposition: Sendable, Equatable {
    case succeeded
    case failed(FailureReason)
    /// Back to `queued`, due again at this time.
    case retry(at: Int64)
}

/// The end of one attempt, to be recorded.
public struct AttemptResult: Sendable {
    public let seq: Int64
    public let attempt: Int
    public let outcome: Outcome
    public let disposition: Disposition
    public let body: StoredBody?
    public let finishedAt: Int64

    public init(
        seq: Int64, attempt: Int, outcome: Outcome, disposition: Disposition, body: StoredBody?, finishedAt: Int64
    ) {
        self.seq = seq
        self.attempt = attempt
        self.outcome = outcome
        self.disposition = disposition
        self.body = body
        self.finishedAt = finishedAt
    }
}

extension Disposition {
    /// The rescue decision, for an attempt whose worker died or whose lease ran out: the task is
    /// queued again at once while it has attempts left, and fails with `attempts_exhausted` when
    /// that was its last.
    public static func afterLostAttempt(attempt: Int, maxAttempts: Int, now: Int64) -> Disposition {
        attempt < maxAttempts ? .retry(at: now) : .failed(.attemptsExhausted)
    }
}
