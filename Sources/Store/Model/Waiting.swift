/// Why a queued task is not running yet, as `GET /v1/tasks/{id}` answers in `waiting_for`.
public struct Waiting: Sendable, Equatable {
    /// The one thing that holds the task back, as `waiting_for` spells it.
    public enum Reason: String, Sendable, CaseIterable {
        /// Its job is paused; it starts once the job is resumed.
        case jobPaused = "job_paused"
        /// Its delay or retry backoff has not run out; `until` is its `next_attempt_at`.
        case dueTime = "due_time"
        /// Its host asked for a pause (429/503 with Retry-After), or was paused
        /// with `POST /v1/hosts/{host}/pause`; `until` is when the pause ends.
        case hostPaused = "host_paused"
        /// Its job obeys robots.txt, and its origin's is being fetched or failing.
        case robotsTxt = "robots_txt"
        /// Its host has as many requests in flight as it may have (or its interval has not passed).
        case hostLimit = "host_limit"
        /// Every worker slot is busy.
        case capacity
    }

    public let reason: Reason
    public let until: Int64?

    public init(_ reason: Reason, until: Int64? = nil) {
        self.reason = reason
        self.until = until
    }
}
