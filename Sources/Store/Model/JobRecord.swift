import Foundation

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
