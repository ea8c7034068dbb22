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
    /// Whether its GET and HEAD tasks obey robots.txt.
    public let robots: RobotsMode
    /// Paused: its queued tasks are held, not started, until it is resumed.
    public let isPaused: Bool
    /// Its own per-host limits, if any.
    public let hostLimits: JobHostLimits?

    public var state: JobState { !isOpen && counts.queued + counts.running == 0 ? .completed : .pending }

    package init(
        id: JobID, callbackURL: String?, callbackEvents: [EventType], taskCount: Int, timeoutMillis: Int,
        createdAt: Int64, finishedAt: Int64?, counts: StateCounts, isOpen: Bool,
        robots: RobotsMode = .ignore, isPaused: Bool = false, hostLimits: JobHostLimits? = nil
    ) {
        self.id = id
        self.callbackURL = callbackURL
        self.callbackEvents = callbackEvents
        self.taskCount = taskCount
        self.timeoutMillis = timeoutMillis
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.counts = counts
        self.isOpen = isOpen
        self.robots = robots
        self.isPaused = isPaused
        self.hostLimits = hostLimits
    }
}
