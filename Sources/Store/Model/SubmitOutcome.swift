import Foundation

/// What `submit` did.
public enum SubmitOutcome: Sendable {
    /// Stored; `response` is the answer recorded for its idempotency key, if any.
    case created(SubmittedJob)
    /// The idempotency key was seen before with the same request: the original answer.
    case replayed(status: Int, body: [UInt8])
    /// The idempotency key was seen before with a different request.
    case keyReused
}
