import Foundation
import JSON
import Store

extension SQLiteStore {
    /// A job with its counts per state.
    public func job(_ id: JobID) throws -> JobRecord? {
        try readers.withReader { db in try JobRow.read(id: id, in: db) }
    }

    /// A page of a job's tasks in submit order, optionally in one state. Nil when there is no such job.
    public func tasks(of id: JobID, state: TaskState?, cursor: String?, limit: Int) throws -> TaskPage? {
        let after = try cursor.map(Cursor.decode) ?? 0
        return try readers.withReader { db in
            guard
                let jobSeq = try db.jobSeq(id)
            else { return nil }
            let filter = state == nil ? "" : "AND t.state = ?4"
            var values: [SQLValue] = [.integer(jobSeq), .integer(after), .int(limit + 1)]
            if let state { values.append(.text(state.rawValue)) }
            let records = try db.query(
                "\(TaskRow.select) WHERE t.job_seq = ?1 AND t.seq > ?2 \(filter) ORDER BY t.seq LIMIT ?3",
                values, TaskRow.read
            )
            let page = Array(records.prefix(limit))
            let next = records.count > limit ? page.last.map { Cursor.encode($0.seq) } : nil
            return TaskPage(tasks: try Self.withAttempts(page, db), nextCursor: next)
        }
    }

    /// A task with the outcome of its last attempt.
    public func task(_ id: TaskID) throws -> TaskRecord? {
        try readers.withReader { db in
            guard let found = try db.queryOne("\(TaskRow.select) WHERE t.id = ?", [.text(id.rawValue)], TaskRow.read)
            else { return nil }
            return try Self.withAttempts([found], db).first
        }
    }

    /// Fills in the attempts log of each task, in one query.
    private static func withAttempts(_ tasks: [(seq: Int64, record: TaskRecord)], _ db: Database) throws -> [TaskRecord]
    {
        guard !tasks.isEmpty else { return [] }
        let seqs = JSONWriter.text(ofIntegers: tasks.map(\.seq))
        var log: [Int64: [AttemptRecord]] = [:]
        for (seq, attempt) in try db.query(
            """
            SELECT task_seq, attempt, started_at, finished_at, status_code, duration_ms, error, error_message
            FROM task_attempts WHERE task_seq IN (SELECT value FROM json_each(?)) ORDER BY task_seq, attempt
            """,
            [.text(seqs)],
            { row in
                (
                    row.int64(0),
                    AttemptRecord(
                        attempt: row.int(1), startedAt: row.isNull(2) ? nil : row.int64(2), finishedAt: row.int64(3),
                        statusCode: row.optionalInt(4), durationMillis: row.optionalInt(5),
                        error: row.optionalString(6), errorMessage: row.optionalString(7))
                )
            })
        {
            log[seq, default: []].append(attempt)
        }
        return tasks.map { AttemptsLog.attach(log[$0.seq] ?? [], to: $0.record) }
    }

    public func body(of id: TaskID) throws -> BodyLookup {
        try readers.withReader { db in
            try db.queryOne("\(BodyRow.select) WHERE t.id = ?", [.text(id.rawValue)], BodyRow.read) ?? .noTask
        }
    }

    /// Counts of all tasks per state, across jobs.
    public func totals() throws -> StateCounts {
        try readers.withReader { db in
            try db.queryOne(
                "SELECT sum(n_queued), sum(n_running), sum(n_succeeded), sum(n_failed), sum(n_canceled) FROM jobs"
            ) { try StateCounts($0, from: 0) } ?? StateCounts()
        }
    }
}

extension Database {
    /// A job's row id, from its public id.
    func jobSeq(_ id: JobID) throws -> Int64? {
        try queryOne("SELECT seq FROM jobs WHERE id = ?", [.text(id.rawValue)]) { $0.int64(0) }
    }
}
