import Store

// Bulk export: a job's tasks as result lines, read page by page.

extension SQLiteStore {
    /// Up to `limit` result lines of the job `jobSeq` after `after` and up to `last` (its
    /// `lastTaskSeq`), in submit order, optionally in one state, with their bodies when `bodies`.
    /// Each page is its own short read: a reader that pages slowly holds no transaction open
    /// between pages.
    public func results(
        ofJob jobSeq: Int64, state: TaskState?, after: Int64, last: Int64, limit: Int, bodies: Bool
    ) throws -> [ResultLine] {
        // Without a state, the `seq` range is walked in order (`+` keeps the planner off the
        // (job_seq, state, seq) index, which would sort the whole job for every page).
        let filter = state == nil ? "+t.job_seq = ?1" : "t.job_seq = ?1 AND t.state = ?4"
        let join = bodies ? "LEFT JOIN task_bodies b ON b.task_seq = t.seq" : ""
        var values: [SQLValue] = [.integer(jobSeq), .integer(after), .int(limit)]
        values.append(state.map { .text($0.rawValue) } ?? .null)
        values.append(.integer(last))
        return try readers.withReader { db in
            try db.query(
                """
                SELECT \(ResultRow.columns(bodies: bodies))
                FROM tasks t \(join) WHERE \(filter) AND t.seq > ?2 AND t.seq <= ?5 ORDER BY t.seq LIMIT ?3
                """, values
            ) {
                try ResultRow.read($0, bodies: bodies, engine: .sqlite)
            }
        }
    }

    /// The row id of the job's last task so far (0 when it has none): where an export of its
    /// results ends, so its last page does not walk the rows of later jobs.
    public func lastTaskSeq(ofJob jobSeq: Int64) throws -> Int64 {
        try readers.withReader { db in
            try db.queryOne("SELECT coalesce(max(seq), 0) FROM tasks WHERE job_seq = ?", [.integer(jobSeq)]) {
                $0.int64(0)
            } ?? 0
        }
    }

    /// The row id of a job, for paging its results; nil when there is no such job.
    public func jobSeq(_ id: JobID) throws -> Int64? {
        try readers.withReader { db in try db.jobSeq(id) }
    }
}
