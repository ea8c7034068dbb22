import HTTPServer
import JSON
import Store

extension FetchqAPI {
    /// `GET /v1/nodes`: the live nodes sharing the queue (PostgreSQL), oldest first; on SQLite,
    /// this one node.
    func listNodes() async throws -> HTTPResponse {
        let now = clock.wallMillis()
        var nodes = try await store.nodes(now: now)
        if nodes.isEmpty {
            let running = try await store.totals().running
            nodes = [
                NodeRecord(
                    id: "local", host: "this node (SQLite)", startedAt: startedAt, heartbeatAt: now,
                    workers: status.read { $0.workersLive }, tasksHeld: running, isLeader: true)
            ]
        }
        return .json(
            200,
            .object([
                (
                    "nodes",
                    .array(
                        nodes.map { node in
                            .object([
                                ("id", .string(node.id)), ("host", .string(node.host)),
                                ("started_at", Representation.timestamp(node.startedAt)),
                                ("last_heartbeat_at", Representation.timestamp(node.heartbeatAt)),
                                ("workers", .integer(node.workers)), ("tasks_held", .integer(node.tasksHeld)),
                                ("leader", .bool(node.isLeader)),
                            ])
                        })
                )
            ]))
    }
}
