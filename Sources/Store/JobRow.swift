/// The columns of a job as read for the API, and how to turn them into a `JobRecord`.
package enum JobRow {
    package static let select = """
        SELECT id, task_count, timeout_ms, created_at, finished_at,
               n_queued, n_running, n_succeeded, n_failed, n_canceled, callback_url, callback_events, open, seq
        FROM jobs
        """

    static func read(id: JobID, in db: Database) throws -> JobRecord? {
        try db.queryOne("\(select) WHERE id = ?", [.text(id.rawValue)], read)
    }

    static func read(seq: Int64, in db: Database) throws -> JobRecord? {
        try db.queryOne("\(select) WHERE seq = ?", [.integer(seq)], read)
    }

    static func readWithSeq(_ row: Row) -> (seq: Int64, record: JobRecord) { (row.int64(13), read(row)) }

    private static func read(_ row: Row) -> JobRecord {
        let counts = StateCounts(row, from: 5)
        let events = row.int(11)
        return JobRecord(
            id: JobID(trusted: row.string(0)), callbackURL: row.optionalString(10),
            callbackEvents: EventType.allCases.filter { events & $0.bit != 0 }, taskCount: row.int(1),
            timeoutMillis: row.int(2), createdAt: row.int64(3), finishedAt: row.isNull(4) ? nil : row.int64(4),
            counts: counts, isOpen: row.int(12) == 1)
    }
}

extension StateCounts {
    /// Counts read from five columns of `row`, from `first` on: queued, running, succeeded, failed,
    /// canceled (the order of the `jobs.n_*` columns).
    init(_ row: Row, from first: Int32) {
        self.init()
        queued = row.int(first)
        running = row.int(first + 1)
        succeeded = row.int(first + 2)
        failed = row.int(first + 3)
        canceled = row.int(first + 4)
    }
}
