extension Store {
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

    /// The opaque cursor of `GET /v1/hosts` pages: a position in the busiest-first order.
    public static func hostCursor(_ offset: Int) -> String { Cursor.encode(Int64(offset)) }

    /// The position a host cursor stands for; throws `invalidCursor` for one this service did not issue.
    public static func hostOffset(_ cursor: String) throws -> Int { Int(clamping: try Cursor.decode(cursor)) }
}
