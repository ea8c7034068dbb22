/// Where a task is in its life. The same strings appear in the SQL `CHECK` of `tasks.state` and in
/// `openapi.yaml`; a test keeps the three equal.
///
/// - `queued`: waiting to be claimed, from `next_attempt_at` on (new, or waiting for a retry).
/// - `running`: handed to a worker under a lease; its result, or the lease running out, moves it on.
/// - `succeeded`: the last attempt got a 2xx final response.
/// - `failed`: the last attempt failed and no attempts are left, or the failure was not retryable.
/// - `canceled`: canceled by a user before it reached another final state.
public enum TaskState: String, Sendable, Codable, CaseIterable {
    case queued
    case running
    case succeeded
    case failed
    case canceled

    /// A final state never changes again (short of an explicit retry by a user).
    public var isFinal: Bool {
        switch self {
        case .queued, .running: false
        case .succeeded, .failed, .canceled: true
        }
    }
}

/// A job is `pending` while any of its tasks is queued or running, then `completed`.
public enum JobState: String, Sendable, Codable, CaseIterable {
    case pending
    case completed
}
