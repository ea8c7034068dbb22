/// The columns of a task that the end of an attempt writes, decided once for both engines from
/// the attempt's `Disposition`: its new state, when it is next due, when it finished, and why it
/// failed. A driver only binds them.
package struct TaskTransition: Sendable, Equatable {
    package let state: TaskState
    /// When the task is due again (a retry), or the time it ended (a final state).
    package let nextAttemptAt: Int64
    /// Set for a final state.
    package let finishedAt: Int64?
    package let failureReason: FailureReason?
    /// Whether a queued task waits for a later time than `now` (SQLite keeps such tasks apart).
    package let waits: Bool

    /// Where `disposition` sends a task whose attempt ended at `now`.
    package init(_ disposition: Disposition, at now: Int64) {
        switch disposition {
        case .succeeded: (state, nextAttemptAt, finishedAt, failureReason) = (.succeeded, now, now, nil)
        case .failed(let reason): (state, nextAttemptAt, finishedAt, failureReason) = (.failed, now, now, reason)
        case .retry(let at): (state, nextAttemptAt, finishedAt, failureReason) = (.queued, at, nil, nil)
        }
        waits = state == .queued && nextAttemptAt > now
    }

    /// Where a lost attempt (its worker died, its lease ran out) sends its task at `now`.
    package static func afterLostAttempt(attempt: Int, maxAttempts: Int, now: Int64) -> TaskTransition {
        TaskTransition(Disposition.afterLostAttempt(attempt: attempt, maxAttempts: maxAttempts, now: now), at: now)
    }
}
