/// The columns of a job as read for the API, and how to turn them into a `JobRecord`: one column
/// list for both engines.
package enum JobRow {
    package static let select = """
        SELECT id, task_count, timeout_ms, created_at, finished_at,
               n_queued, n_running, n_succeeded, n_failed, n_canceled, callback_url, callback_events, open, seq,
               robots_txt, paused, host_concurrency, host_interval_ms
        FROM jobs
        """

    package static func read(_ row: some RowReader) throws -> (seq: Int64, record: JobRecord) {
        let events = try row.int(11)
        return (
            try row.int64(13),
            JobRecord(
                id: JobID(trusted: try row.string(0)), callbackURL: try row.optionalString(10),
                callbackEvents: EventType.allCases.filter { events & $0.bit != 0 }, taskCount: try row.int(1),
                timeoutMillis: try row.int(2), createdAt: try row.int64(3), finishedAt: try row.optionalInt64(4),
                counts: try StateCounts(row, from: 5), isOpen: try row.bool(12),
                robots: RobotsMode(rawValue: try row.string(14)) ?? .ignore, isPaused: try row.bool(15),
                hostLimits: JobHostLimits.unless(
                    concurrency: try row.optionalInt(16), intervalMillis: try row.optionalInt(17)))
        )
    }
}

extension StateCounts {
    /// Counts read from five columns of `row`, from `first` on: queued, running, succeeded, failed,
    /// canceled (the order of the `jobs.n_*` columns).
    package init(_ row: some RowReader, from first: Int) throws {
        self.init()
        queued = try row.int(first)
        running = try row.int(first + 1)
        succeeded = try row.int(first + 2)
        failed = try row.int(first + 3)
        canceled = try row.int(first + 4)
    }
}
