import Foundation

/// An HTTP request that a task performs.
public struct FetchRequest: Sendable, Equatable {
    public var url: String
    public var method: String
    /// Header names and values in the order given.
    public var headers: [(String, String)]
    public var body: [UInt8]?

    public init(url: String, method: String = "GET", headers: [(String, String)] = [], body: [UInt8]? = nil) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
    }

    public static func == (lhs: FetchRequest, rhs: FetchRequest) -> Bool {
        lhs.url == rhs.url && lhs.method == rhs.method && lhs.body == rhs.body
            && lhs.headers.elementsEqual(rhs.headers, by: { $0 == $1 })
    }
}

/// A task as submitted, validated by the API.
public struct NewTask: Sendable {
    public var request: FetchRequest
    /// Lower-cased host of `request.url`, used for per-host limits.
    public var host: String
    public var timeoutMillis: Int
    public var maxAttempts: Int
    public var priority: Int
    /// Not claimed before this time (ms since the epoch); nil means at once.
    public var notBefore: Int64?
    /// Backoff overrides; nil means the service's defaults.
    public var retryBaseMillis: Int?
    public var retryMaxMillis: Int?

    public init(
        request: FetchRequest, host: String, timeoutMillis: Int, maxAttempts: Int = 1, priority: Int = 0,
        notBefore: Int64? = nil, retryBaseMillis: Int? = nil, retryMaxMillis: Int? = nil
    ) {
        self.request = request
        self.host = host
        self.timeoutMillis = timeoutMillis
        self.maxAttempts = maxAttempts
        self.priority = priority
        self.notBefore = notBefore
        self.retryBaseMillis = retryBaseMillis
        self.retryMaxMillis = retryMaxMillis
    }
}

/// A job as submitted: its tasks in order, and where to call back.
public struct NewJob: Sendable {
    public var tasks: [NewTask]
    public var timeoutMillis: Int
    public var callback: Callback?

    public init(tasks: [NewTask], timeoutMillis: Int, callback: Callback? = nil) {
        self.tasks = tasks
        self.timeoutMillis = timeoutMillis
        self.callback = callback
    }
}

/// The kinds of webhook event. The raw values appear in payloads, the SQL `CHECK` and openapi.yaml.
public enum EventType: String, Sendable, CaseIterable {
    case taskFinished = "task.finished"
    case jobFinished = "job.finished"

    /// The bit of `jobs.callback_events` that turns this event on.
    var bit: Int {
        switch self {
        case .taskFinished: 1
        case .jobFinished: 2
        }
    }
}

/// Where a job's webhooks go, which events, and an optional per-job signing secret.
public struct Callback: Sendable, Equatable {
    public var url: String
    public var events: Set<EventType>
    /// `whsec_…`; nil means the service's secret.
    public var secret: String?

    public init(url: String, events: Set<EventType> = Set(EventType.allCases), secret: String? = nil) {
        self.url = url
        self.events = events
        self.secret = secret
    }
}

/// What the store answers once a job is durably stored.
public struct SubmittedJob: Sendable {
    public let id: JobID
    public let taskIDs: [TaskID]
    public let createdAt: Int64
}

/// Number of a job's tasks in each state.
public struct StateCounts: Sendable, Equatable {
    public var queued = 0
    public var running = 0
    public var succeeded = 0
    public var failed = 0
    public var canceled = 0

    public init() {}

    public subscript(state: TaskState) -> Int {
        switch state {
        case .queued: queued
        case .running: running
        case .succeeded: succeeded
        case .failed: failed
        case .canceled: canceled
        }
    }

    public var total: Int { queued + running + succeeded + failed + canceled }
}

/// A job as read back.
public struct JobRecord: Sendable {
    public let id: JobID
    /// The callback, without its secret.
    public let callbackURL: String?
    public let callbackEvents: [EventType]
    public let taskCount: Int
    public let timeoutMillis: Int
    public let createdAt: Int64
    public let finishedAt: Int64?
    public let counts: StateCounts

    public var state: JobState { counts.queued + counts.running == 0 ? .completed : .pending }
}

/// What happened on one attempt of a task.
public struct Outcome: Sendable, Equatable {
    public var statusCode: Int?
    /// Response headers, names lower-cased, repeated headers joined by ", ".
    public var headers: [String: String]?
    public var bodyBytes: Int?
    public var bodyTruncated: Bool
    public var durationMillis: Int?
    /// A stable error code (`timeout`, `connection_failed`, …) when no final response arrived.
    public var error: String?
    public var errorMessage: String?

    public init(
        statusCode: Int? = nil, headers: [String: String]? = nil, bodyBytes: Int? = nil,
        bodyTruncated: Bool = false, durationMillis: Int? = nil, error: String? = nil, errorMessage: String? = nil
    ) {
        self.statusCode = statusCode
        self.headers = headers
        self.bodyBytes = bodyBytes
        self.bodyTruncated = bodyTruncated
        self.durationMillis = durationMillis
        self.error = error
        self.errorMessage = errorMessage
    }
}

/// Why a task ended `failed`.
public enum FailureReason: String, Sendable, CaseIterable {
    /// The answer or error was one that another attempt would not change.
    case notRetryable = "not_retryable"
    /// Every attempt failed.
    case attemptsExhausted = "attempts_exhausted"
}

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

/// A stored response body.
public struct StoredBody: Sendable {
    public let contentType: String?
    public let bytes: [UInt8]

    public init(contentType: String?, bytes: [UInt8]) {
        self.contentType = contentType
        self.bytes = bytes
    }
}

/// A task handed to a worker. `attempt` is the lease token: a result is accepted only while the task
/// is still `running` with this attempt number.
public struct ClaimedTask: Sendable {
    public let seq: Int64
    public let id: TaskID
    public let jobSeq: Int64
    public let host: String
    public let request: FetchRequest
    public let timeoutMillis: Int
    public let attempt: Int
    public let maxAttempts: Int
    public let retryBaseMillis: Int?
    public let retryMaxMillis: Int?
}

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
