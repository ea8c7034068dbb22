import Foundation

/// The columns of a task as read for the API, and how to turn them into a `TaskRecord`.
package enum TaskRow {
    package static let select = """
        SELECT t.id, j.id, t.url, t.method, t.headers, t.body, t.state, t.priority, t.attempts, t.max_attempts,
               t.timeout_ms, t.next_attempt_at, t.created_at, t.updated_at, t.started_at, t.finished_at,
               t.status_code, t.response_headers, t.body_bytes, t.body_truncated, t.duration_ms, t.error,
               t.error_message, t.seq, t.failure_reason, t.host
        FROM tasks t JOIN jobs j ON j.seq = t.job_seq
        """

    static func read(_ row: Row) throws -> (seq: Int64, record: TaskRecord) {
        guard let state = TaskState(rawValue: row.string(6)) else {
            throw StoreError(.sqlite, "unknown task state \(row.string(6))")
        }
        let attempted = !row.isNull(16) || !row.isNull(20) || !row.isNull(21)
        let outcome =
            attempted
            ? Outcome(
                statusCode: row.optionalInt(16), headers: row.optionalString(17).map(HeaderCoding.decode),
                bodyBytes: row.optionalInt(18), bodyTruncated: row.int(19) == 1, durationMillis: row.optionalInt(20),
                error: row.optionalString(21), errorMessage: row.optionalString(22))
            : nil
        let record = TaskRecord(
            id: TaskID(trusted: row.string(0)), jobID: JobID(trusted: row.string(1)),
            request: FetchRequest(
                url: row.string(2), method: row.string(3), headers: HeaderCoding.decode(row.string(4)),
                body: row.bytes(5)),
            state: state, failureReason: row.optionalString(24).flatMap(FailureReason.init(rawValue:)),
            priority: row.int(7), attempts: row.int(8), maxAttempts: row.int(9),
            timeoutMillis: row.int(10),
            nextAttemptAt: state == .queued ? row.int64(11) : nil, createdAt: row.int64(12), updatedAt: row.int64(13),
            startedAt: row.isNull(14) ? nil : row.int64(14), finishedAt: row.isNull(15) ? nil : row.int64(15),
            host: row.string(25), outcome: outcome, attemptsLog: [])
        return (row.int64(23), record)
    }
}
