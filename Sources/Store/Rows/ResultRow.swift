/// The columns of a task as the results export reads them, and how to turn them into a
/// `ResultLine`: one column list for both engines.
package enum ResultRow {
    /// The columns `read(_:bodies:engine:)` takes, the body's only when `bodies` (then the query
    /// joins `task_bodies b`).
    package static func columns(bodies: Bool) -> String {
        """
        t.seq, t.id, t.url, t.method, t.state, t.attempts, t.status_code, t.error, t.body_bytes,
        t.body_truncated, t.duration_ms, t.finished_at, \(bodies ? "b.body" : "NULL"), t.response_headers,
        t.decoded_from
        """
    }

    package static func read(_ row: some RowReader, bodies: Bool, engine: StoreError.Code) throws -> ResultLine {
        guard let state = TaskState(rawValue: try row.string(4)) else {
            throw StoreError(engine, "unknown task state \(try row.string(4))")
        }
        let decodedFrom = try row.optionalString(14)
        return ResultLine(
            seq: try row.int64(0), id: TaskID(trusted: try row.string(1)), url: try row.string(2),
            method: try row.string(3), state: state, attempts: try row.int(5), statusCode: try row.optionalInt(6),
            error: try row.optionalString(7), bodyBytes: try row.optionalInt(8), bodyTruncated: try row.bool(9),
            durationMillis: try row.optionalInt(10), finishedAt: try row.optionalInt64(11),
            body: bodies ? try row.bytes(12) : nil,
            contentEncoding: StoredBody.contentEncoding(
                ofStoredHeaders: try row.optionalString(13), decodedFrom: decodedFrom),
            decodedFrom: decodedFrom)
    }
}

/// The columns of a task's stored body, and how to read them: one query for both engines (the
/// engine adds its `WHERE t.id =`).
package enum BodyRow {
    package static let select = """
        SELECT t.body_truncated, b.task_seq IS NOT NULL, b.content_type, b.body, t.response_headers, t.decoded_from
        FROM tasks t LEFT JOIN task_bodies b ON b.task_seq = t.seq
        """

    package static func read(_ row: some RowReader) throws -> BodyLookup {
        guard try row.bool(1) else { return .noBody }
        return .body(
            StoredBody(
                contentType: try row.optionalString(2),
                contentEncoding: StoredBody.contentEncoding(
                    ofStoredHeaders: try row.optionalString(4), decodedFrom: try row.optionalString(5)),
                bytes: try row.bytes(3) ?? []),
            truncated: try row.bool(0))
    }
}
