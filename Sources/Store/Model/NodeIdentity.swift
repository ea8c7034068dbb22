import Foundation

/// Who a node is, as the `nodes` table and `GET /v1/nodes` show it.
public struct NodeIdentity: Sendable, Equatable {
    /// Unique per run of `fetchq serve`: a node that restarts is a new node.
    public let id: String
    /// The machine (and port) it runs on, for people reading the list.
    public let host: String
    /// Worker processes × concurrent fetches each.
    public let workers: Int

    public init(id: String, host: String, workers: Int) {
        self.id = id
        self.host = host
        self.workers = workers
    }
}
