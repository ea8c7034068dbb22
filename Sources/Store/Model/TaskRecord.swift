import Foundation

/// One finished attempt of a task.
public struct AttemptRecord: Sendable, Equatable {
    public let attempt: Int
    public let startedAt: Int64?
    public let finishedAt: Int64
    public let statusCode: Int?
    public let durationMillis: Int?
    public let error: String?
    public let errorMessage: String?
}

/// A task as read back, with the outcome of its last attempt.
public struct TaskRecord: Sendable {
    public let id: TaskID
    public let jobID: JobID
    public let request: FetchRequest
    public let state: TaskState
    /// Set when `state` is `failed`.
    public let failureReason: FailureReason?
    public let priority: Int
    public let attempts: Int
    public let maxAttempts: Int
    public let timeoutMillis: Int
    public let nextAttemptAt: Int64?
    public let createdAt: Int64
    public let updatedAt: Int64
    public let startedAt: Int64?
    public let finishedAt: Int64?
    /// Lower-cased host[:port] of the URL: the unit of per-host limits.
    public let host: String
    /// Nil until the first attempt ends.
    public let outcome: Outcome?
    /// The most recent attempts, oldest first (at most `Store.attemptsShown`).
    public internal(set) var attemptsLog: [AttemptRecord]
}

/// A page of a job's tasks.
public struct TaskPage: Sendable {
    public let tasks: [TaskRecord]
    /// Pass back to get the next page; nil on the last page.
    public let nextCursor: String?
}

/// A page of jobs, newest first.
public struct JobPage: Sendable {
    public let jobs: [JobRecord]
    /// Pass back to get the next page; nil on the last page.
    public let nextCursor: String?
}
