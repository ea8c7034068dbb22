import Foundation
import Logging
import PostgresNIO
import Store

extension PostgresStore {
    /// Heartbeats a third of the TTL apart: two can be missed before the node counts as dead.
    var heartbeatMillis: Int { max(100, leaseTTLMillis / 3) }

    func register(now: Int64) async throws {
        try await transaction { [self] connection in
            try await connection.query(
                """
                INSERT INTO nodes (id, host, started_at, heartbeat_at, workers)
                VALUES (\(node.id), \(node.host), \(now), \(now), \(node.workers))
                ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
                """, logger: logger)
        }
        logger.info(
            "node registered", metadata: ["node.id": "\(node.id)", "lease_ttl_ms": "\(leaseTTLMillis)"])
    }

    /// Heartbeats until cancelled; as leader, rescues the tasks of nodes past their TTL.
    func heartbeatLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(heartbeatMillis))
            if Task.isCancelled { return }
            do {
                let now = WallClock.nowMillis()
                try await heartbeat(now: now)
                // Stopping ends the round between statements, not in one (see `run()`).
                try Task.checkCancellation()
                // A claim whose answer was lost (the database went away as it committed) leaves a
                // task running here that no worker has: its lease runs out, and it is run again.
                try await rescueExpired(
                    now: now, reason: "the task's lease ran out on its node (its claim was lost in a database outage)")
                try Task.checkCancellation()
                if try await elect(now: now) {
                    try Task.checkCancellation()
                    try await rescueDeadNodes(now: now)
                }
            } catch {
                logger.debug("heartbeat failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// This node is alive at `now`. A node that a leader gave up for dead (its row deleted while it
    /// could not reach the database) registers again: its old tasks were rescued, and its late
    /// results are ignored by their attempt number.
    func heartbeat(now: Int64) async throws {
        let alive = try await transaction { [self] connection in
            try await connection.query(
                "UPDATE nodes SET heartbeat_at = \(now) WHERE id = \(node.id) RETURNING 1", logger: logger
            ).count()
        }
        if alive == 0 {
            logger.warning("this node was taken for dead by the cluster; registering again")
            try await register(now: now)
        }
    }

    /// Takes or keeps the maintenance lease; answers whether this node holds it.
    func elect(now: Int64) async throws -> Bool {
        try await transaction { [self] connection in
            try await connection.query(
                """
                INSERT INTO leader (name, node_id, expires_at) VALUES ('maintenance', \(node.id), \(now + Int64(leaseTTLMillis)))
                ON CONFLICT (name) DO UPDATE SET node_id = excluded.node_id, expires_at = excluded.expires_at
                WHERE leader.node_id = excluded.node_id OR leader.expires_at < \(now)
                RETURNING 1
                """, logger: logger
            ).count() == 1
        }
    }

    /// The leader's work: every node whose last heartbeat is older than the TTL is dead. Its
    /// running tasks go back to the queue with the attempt counted (as a lost worker's do: failed
    /// if it was their last), its leased deliveries are due at once, and its row goes.
    /// Answers how many tasks moved.
    @discardableResult
    public func rescueDeadNodes(now: Int64) async throws -> Int {
        try await transaction { [self] connection in
            let dead = try await connection.query(
                """
                DELETE FROM nodes WHERE heartbeat_at < \(now - Int64(leaseTTLMillis)) AND id <> \(node.id)
                RETURNING id
                """, logger: logger
            ).map { try $0.string(0) }
            // Tasks of nodes that are gone: the dead ones just deleted, and any whose row a crash
            // of the leader mid-rescue left deleted.
            let leases = try await connection.query(
                """
                SELECT seq, attempts FROM tasks t
                WHERE state = 'running' AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = t.node_id)
                FOR UPDATE SKIP LOCKED
                """, logger: logger
            ).map { (seq: try $0.int64(0), attempt: try $0.int(1)) }
            try await connection.query(
                """
                UPDATE deliveries SET next_attempt_at = \(now), node_id = NULL
                WHERE state = 'pending' AND node_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = deliveries.node_id)
                """, logger: logger)
            let moved = try await Self.lose(
                leases, error: "node_lost",
                message: "the node running the task stopped heartbeating; another node runs it again",
                now: now, on: connection, logger: logger)
            if !dead.isEmpty || moved > 0 {
                logger.warning(
                    "rescued the tasks of dead nodes",
                    metadata: ["nodes": "\(dead.joined(separator: ","))", "tasks": "\(moved)"])
            }
            if moved > 0 { try await Self.notifyWork(connection, logger: logger) }
            try await connection.query("DELETE FROM host_pauses WHERE until < \(now)", logger: logger)
            try await connection.query(
                "DELETE FROM host_limits WHERE updated_at < \(now - Self.hostLimitMemoryMillis)", logger: logger)
            try await PostgresOutbox.render(on: connection, store: self)
            return moved
        }
    }

    /// Removes this node (and its maintenance lease) at a clean stop, after its tasks were given
    /// back; best effort: a node that cannot reach the database is rescued after its TTL instead.
    public func leave() async {
        do {
            try await transaction { [self] connection in
                try await connection.query("DELETE FROM leader WHERE node_id = \(node.id)", logger: logger)
                try await connection.query("DELETE FROM nodes WHERE id = \(node.id)", logger: logger)
            }
        } catch {
            logger.warning("could not deregister this node", metadata: ["error": "\(error)"])
        }
    }

    /// The live nodes, oldest first.
    public func nodes(now: Int64) async throws -> [NodeRecord] {
        try await read { [self] connection in
            try await connection.query(
                """
                SELECT n.id, n.host, n.started_at, n.heartbeat_at, n.workers,
                       (SELECT count(*) FROM tasks t WHERE t.state = 'running' AND t.node_id = n.id),
                       coalesce((SELECT l.node_id = n.id AND l.expires_at >= \(now) FROM leader l), false)
                FROM nodes n WHERE n.heartbeat_at >= \(now - Int64(leaseTTLMillis))
                ORDER BY n.started_at, n.id
                """, logger: logger
            ).map { row in
                NodeRecord(
                    id: try row.string(0), host: try row.string(1), startedAt: try row.int64(2),
                    heartbeatAt: try row.int64(3), workers: try row.int(4), tasksHeld: try row.int(5),
                    isLeader: try row.bool(6))
            }
        }
    }
}
