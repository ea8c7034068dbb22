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
    /// Takes more tasks until sealed; an open job stays `pending` even when all its tasks are final.
    public let isOpen: Bool

    public var state: JobState { !isOpen && counts.queued + counts.running == 0 ? .completed : .pending }
}
