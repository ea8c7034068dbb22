/// The columns of a job as read for the API, and how to turn them into a `JobRecord`.
enum JobRow {
    static let select = """
        SELECT id, task_count, timeout_ms, created_at, finished_at,
               n_queued, n_running, n_succeeded, n_failed, n_canceled, callback_url, callback_events
        FROM jobs
        """

    static func read(id: JobID, in db: Database) throws -> JobRecord? {
        try db.queryOne("\(select) WHERE id = ?", [.text(id.rawValue)], read)
    }

    static func read(seq: Int64, in db: Database) throws -> JobRecord? {
        try db.queryOne("\(select) WHERE seq = ?", [.integer(seq)], read)
    }

    private static func read(_ row: Row) -> JobRecord {
        var counts = StateCounts()
        counts.queued = row.int(5)
        counts.running = row.int(6)
        counts.succeeded = row.int(7)
        counts.failed = row.int(8)
        counts.canceled = row.int(9)
        let events = row.int(11)
        return JobRecord(
            id: JobID(trusted: row.string(0)), callbackURL: row.optionalString(10),
            callbackEvents: EventType.allCases.filter { events & $0.bit != 0 }, taskCount: row.int(1),
            timeoutMillis: row.int(2), createdAt: row.int64(3), finishedAt: row.isNull(4) ? nil : row.int64(4),
            counts: counts)
    }
}
