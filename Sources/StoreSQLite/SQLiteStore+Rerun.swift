import Store

extension SQLiteStore {
    /// A user's re-run: puts a `failed` or `canceled` task back to `queued` with fresh attempts. Nil when there is
    /// no such task; false when it is in another state.
    public func rerun(task id: TaskID, now: Int64) async throws -> Bool? {
        try await writer.perform { writer in
            try writer.db.transaction {
                guard
                    let state = try writer.db.queryOne(
                        "SELECT state FROM tasks WHERE id = ?", [.text(id.rawValue)], { $0.string(0) })
                else { return nil }
                guard state == TaskState.failed.rawValue || state == TaskState.canceled.rawValue else { return false }
                // The failed run's last attempt lives on the row that is about to be reset: log it.
                try writer.db.run(
                    """
                    INSERT OR IGNORE INTO task_attempts
                        (task_seq, attempt, started_at, finished_at, status_code, duration_ms, error, error_message)
                    SELECT seq, attempts, started_at, finished_at, status_code, duration_ms, error, error_message
                    FROM tasks WHERE id = ? AND state = 'failed' AND attempts > 0 AND finished_at IS NOT NULL
                    """,
                    [.text(id.rawValue)])
                try writer.db.run(
                    """
                    UPDATE tasks SET state = 'queued', attempts = 0, next_attempt_at = ?2, waiting = 0, updated_at = ?2,
                        finished_at = NULL, failure_reason = NULL
                    WHERE id = ?1
                    """,
                    [.text(id.rawValue), .integer(now)])
                return true
            }
        }
    }
}
