import Store

extension SQLiteStore {
    /// Queued and running tasks per host: `running`, and `queuedDue` (queued and due at `now`).
    public func hostQueues(now: Int64) throws -> [String: (running: Int, queuedDue: Int)] {
        try readers.withReader { db in
            var queues: [String: (running: Int, queuedDue: Int)] = [:]
            for (host, running, due) in try db.query(
                """
                SELECT host, sum(state = 'running'), sum(state = 'queued' AND next_attempt_at <= ?1)
                FROM tasks WHERE state IN ('queued', 'running') GROUP BY host
                """,
                [.integer(now)], { ($0.string(0), $0.int(1), $0.int(2)) })
            {
                queues[host] = (running, due)
            }
            return queues
        }
    }
}
