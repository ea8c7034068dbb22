/// A node as `GET /v1/nodes` lists it.
public struct NodeRecord: Sendable, Equatable {
    public let id: String
    public let host: String
    public let startedAt: Int64
    public let heartbeatAt: Int64
    public let workers: Int
    /// Tasks it runs now.
    public let tasksHeld: Int
    /// Whether it holds the maintenance lease (rescues dead nodes' tasks).
    public let isLeader: Bool

    public init(
        id: String, host: String, startedAt: Int64, heartbeatAt: Int64, workers: Int, tasksHeld: Int, isLeader: Bool
    ) {
        self.id = id
        self.host = host
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.workers = workers
        self.tasksHeld = tasksHeld
        self.isLeader = isLeader
    }
}
