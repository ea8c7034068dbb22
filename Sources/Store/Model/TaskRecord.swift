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

    package init(
        attempt: Int, startedAt: Int64?, finishedAt: Int64, statusCode: Int?, durationMillis: Int?, error: String?,
        errorMessage: String?
    ) {
        self.attempt = attempt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.statusCode = statusCode
        self.durationMillis = durationMillis
        self.error = error
        self.errorMessage = errorMessage
    }
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
    /// The most recent attempts, oldest first (at most `AttemptsLog.shown`).
    public package(set) var attemptsLog: [AttemptRecord]
    /// Whether its job obeys robots.txt (checked for GET and HEAD only).
    public let obeysRobots: Bool
    /// A queued task of a paused job: not started until the job is resumed.
    public package(set) var held = false

    package init(
        id: TaskID, jobID: JobID, request: FetchRequest, state: TaskState, failureReason: FailureReason?, priority: Int,
        attempts: Int, maxAttempts: Int, timeoutMillis: Int, nextAttemptAt: Int64?, createdAt: Int64, updatedAt: Int64,
        startedAt: Int64?, finishedAt: Int64?, host: String, outcome: Outcome?, attemptsLog: [AttemptRecord],
        obeysRobots: Bool = false
    ) {
        self.id = id
        self.jobID = jobID
        self.request = request
        self.state = state
        self.failureReason = failureReason
        self.priority = priority
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.timeoutMillis = timeoutMillis
        self.nextAttemptAt = nextAttemptAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.host = host
        self.outcome = outcome
        self.attemptsLog = attemptsLog
        self.obeysRobots = obeysRobots
    }
}

/// A page of a job's tasks.
public struct TaskPage: Sendable {
    public let tasks: [TaskRecord]
    /// Pass back to get the next page; nil on the last page.
    public let nextCursor: String?

    package init(tasks: [TaskRecord], nextCursor: String?) {
        self.tasks = tasks
        self.nextCursor = nextCursor
    }
}

/// A page of jobs, newest first.
public struct JobPage: Sendable {
    public let jobs: [JobRecord]
    /// Pass back to get the next page; nil on the last page.
    public let nextCursor: String?

    package init(jobs: [JobRecord], nextCursor: String?) {
        self.jobs = jobs
        self.nextCursor = nextCursor
    }
}
