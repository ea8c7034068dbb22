import JSON
import Store

// Open jobs: tasks appended batch by batch, then sealed.

extension SQLiteStore {
    /// Appends `tasks` to the open job `id` in one durable transaction, all or none, with the same
    /// group commit and idempotency as `submit`. Throws `.notFound` for an unknown job and
    /// `.conflict` for one that is sealed or canceled; a replayed key answers the original response
    /// even once the job is sealed.
    public func append(_ tasks: [NewTask], to id: JobID, idempotency: Idempotency?, now: Int64) async throws
        -> SubmitOutcome
    {
        try await enqueue(NewJob(tasks: tasks, timeoutMillis: 1), into: id, idempotency: idempotency, now: now)
    }

    /// Inserts `tasks` after the open job's last task and adds them to its counts.
    static func append(_ tasks: [NewTask], to id: JobID, now: Int64, writer: WriterState) throws -> SubmittedJob {
        guard
            let (jobSeq, open, taskCount, createdAt, settings) = try writer.db.queryOne(
                "SELECT seq, open, task_count, created_at, \(JobSettings.columns) FROM jobs WHERE id = ?",
                [.text(id.rawValue)],
                { ($0.int64(0), $0.int(1) == 1, $0.int(2), $0.int64(3), try JobSettings.read($0, from: 4)) })
        else { throw StoreError(.notFound, "job \(id) does not exist") }
        guard open else { throw StoreError(.conflict, "job \(id) is sealed or canceled") }
        // With unique_urls, a task already in the job (by method, URL and body) is not created again.
        var existing: [String: TaskID] = [:]
        if settings.uniqueURLs {
            for (key, task) in try writer.db.query(
                "SELECT dedupe_key, id FROM tasks WHERE job_seq = ?1 AND dedupe_key IN (SELECT value FROM json_each(?2))",
                [.integer(jobSeq), .text(JSONWriter.text(ofStrings: DuplicatePlan.keys(of: tasks)))],
                { ($0.string(0), TaskID(trusted: $0.string(1))) })
            {
                existing[key] = task
            }
        }
        let plan = DuplicatePlan(tasks, unique: settings.uniqueURLs, existing: existing)
        // Tasks appended follow the job's settings: held while it is paused, its robots_txt, its limits.
        let inserted = try insertTasks(
            plan.toInsert, keys: plan.keys, jobSeq: jobSeq, firstPosition: taskCount, settings: settings, now: now,
            writer: writer)
        try writer.db.run(
            "UPDATE jobs SET task_count = task_count + ?2, n_queued = n_queued + ?2 WHERE seq = ?1",
            [.integer(jobSeq), .int(plan.toInsert.count)])
        return SubmittedJob(
            id: id, taskIDs: plan.ids(inserted: inserted), createdAt: createdAt, duplicates: plan.duplicates)
    }

    /// Seals the job `id`: it takes no more tasks, and finishes (now, when nothing is queued or
    /// running) like any other job. Sealing a sealed job changes nothing.
    public func seal(job id: JobID, now: Int64) async throws -> SealOutcome {
        try await writer.perform { writer in
            try writer.transactionRenderingEvents {
                guard let jobSeq = try writer.db.jobSeq(id) else { return .notFound }
                try Self.close(jobSeq: jobSeq, now: now, in: writer.db)
                guard let job = try JobRow.read(seq: jobSeq, in: writer.db) else { return .notFound }
                return .sealed(job)
            }
        }
    }

    /// Clears `open` and stamps `finished_at` when no task is left to run (the count trigger only
    /// stamps it on a task's change of state).
    static func close(jobSeq: Int64, now: Int64, in db: Database) throws {
        try db.run(
            """
            UPDATE jobs SET open = 0,
                finished_at = CASE WHEN n_queued + n_running = 0 THEN coalesce(finished_at, ?2) END
            WHERE seq = ?1 AND open = 1
            """,
            [.integer(jobSeq), .integer(now)])
    }
}
