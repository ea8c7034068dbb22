import Store

extension SQLiteStore {
    /// Cancels every queued or running task of a job. Nil when there is no such job.
    public func cancel(job id: JobID, now: Int64) async throws -> Cancellation? {
        try await writer.perform { writer in
            try writer.transactionRenderingEvents {
                guard
                    let jobSeq = try writer.db.jobSeq(id)
                else { return nil }
                let running = try writer.db.query(
                    "SELECT seq FROM tasks WHERE job_seq = ? AND state = 'running'", [.integer(jobSeq)]
                ) { $0.int64(0) }
                let canceled = try writer.db.run(
                    """
                    UPDATE tasks SET state = 'canceled', finished_at = ?2, updated_at = ?2, lease_expires_at = NULL
                    WHERE job_seq = ?1 AND state IN ('queued', 'running')
                    """,
                    [.integer(jobSeq), .integer(now)]
                )
                // A canceled open job takes no more tasks, and so can finish.
                try Self.close(jobSeq: jobSeq, now: now, in: writer.db)
                return Cancellation(canceled: canceled, running: running)
            }
        }
    }

    /// Cancels one task if it is queued or running. Nil when there is no such task.
    public func cancel(task id: TaskID, now: Int64) async throws -> Cancellation? {
        try await writer.perform { writer in
            try writer.transactionRenderingEvents {
                guard
                    let (seq, state) = try writer.db.queryOne(
                        "SELECT seq, state FROM tasks WHERE id = ?", [.text(id.rawValue)],
                        { ($0.int64(0), $0.string(1)) })
                else { return nil }
                let canceled = try writer.db.run(
                    """
                    UPDATE tasks SET state = 'canceled', finished_at = ?2, updated_at = ?2, lease_expires_at = NULL
                    WHERE seq = ?1 AND state IN ('queued', 'running')
                    """,
                    [.integer(seq), .integer(now)]
                )
                return Cancellation(canceled: canceled, running: state == TaskState.running.rawValue ? [seq] : [])
            }
        }
    }
}
