/// The columns of a task as read for the API, and how to turn them into a `TaskRecord`: one
/// column list for both engines.
package enum TaskRow {
    package static let select = """
        SELECT t.id, j.id, t.url, t.method, t.headers, t.body, t.state, t.priority, t.attempts, t.max_attempts,
               t.timeout_ms, t.next_attempt_at, t.created_at, t.updated_at, t.started_at, t.finished_at,
               t.status_code, t.response_headers, t.body_bytes, t.body_truncated, t.duration_ms, t.error,
               t.error_message, t.seq, t.failure_reason, t.host, t.obey_robots, t.held, t.decoded_from
        FROM tasks t JOIN jobs j ON j.seq = t.job_seq
        """

    package static func read(_ row: some RowReader) throws -> (seq: Int64, record: TaskRecord) {
        guard let state = TaskState(rawValue: try row.string(6)) else {
            throw StoreError(.invalidRow, "unknown task state \(try row.string(6))")
        }
        let attempted = !row.isNull(16) || !row.isNull(20) || !row.isNull(21)
        let outcome =
            attempted
            ? Outcome(
                statusCode: try row.optionalInt(16),
                headers: try row.optionalString(17).map(HeaderCoding.decode),
                bodyBytes: try row.optionalInt(18), bodyTruncated: try row.bool(19),
                durationMillis: try row.optionalInt(20), error: try row.optionalString(21),
                errorMessage: try row.optionalString(22), decodedFrom: try row.optionalString(28))
            : nil
        var record = TaskRecord(
            id: TaskID(trusted: try row.string(0)), jobID: JobID(trusted: try row.string(1)),
            request: FetchRequest(
                url: try row.string(2), method: try row.string(3), headers: HeaderCoding.decode(try row.string(4)),
                body: try row.bytes(5)),
            state: state, failureReason: try row.optionalString(24).flatMap(FailureReason.init(rawValue:)),
            priority: try row.int(7), attempts: try row.int(8), maxAttempts: try row.int(9),
            timeoutMillis: try row.int(10), nextAttemptAt: state == .queued ? try row.int64(11) : nil,
            createdAt: try row.int64(12), updatedAt: try row.int64(13), startedAt: try row.optionalInt64(14),
            finishedAt: try row.optionalInt64(15), host: try row.string(25), outcome: outcome, attemptsLog: [],
            obeysRobots: try row.bool(26))
        record.held = try state == .queued && row.bool(27)
        return (try row.int64(23), record)
    }
}
