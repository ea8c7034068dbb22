import Foundation

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
    /// When the task was due (its `next_attempt_at`), for the time it waited in the queue.
    public var dueAt: Int64 = 0
    /// Whether its job obeys robots.txt (checked for GET and HEAD only).
    public var obeysRobots = false
    /// Its job's own politeness, if it has any.
    public var jobHostLimits: JobHostLimits?
    /// Whether the body is to be asked for compressed and stored decoded.
    public var decodeContent = false

    package init(
        seq: Int64, id: TaskID, jobSeq: Int64, host: String, request: FetchRequest, timeoutMillis: Int, attempt: Int,
        maxAttempts: Int, retryBaseMillis: Int?, retryMaxMillis: Int?, dueAt: Int64 = 0,
        obeysRobots: Bool = false, jobHostLimits: JobHostLimits? = nil, decodeContent: Bool = false
    ) {
        self.decodeContent = decodeContent
        self.seq = seq
        self.id = id
        self.jobSeq = jobSeq
        self.host = host
        self.request = request
        self.timeoutMillis = timeoutMillis
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.retryBaseMillis = retryBaseMillis
        self.retryMaxMillis = retryMaxMillis
        self.dueAt = dueAt
        self.obeysRobots = obeysRobots
        self.jobHostLimits = jobHostLimits
    }
}
