import Foundation
import Logging
import PostgresNIO
import Store

/// Reading jobs on a connection, with the model's column list and decoder (`JobRow`).
enum PostgresJobRow {
    static func job(seq: Int64, on connection: PostgresConnection, logger: Logger) async throws -> JobRecord? {
        try await connection.query(
            PostgresQuery(unsafeSQL: "\(JobRow.select) WHERE seq = $1", binds: binds(seq)), logger: logger
        )
        .first(JobRow.read)?.record
    }

    static func job(id: JobID, on connection: PostgresConnection, logger: Logger) async throws -> JobRecord? {
        try await connection.query(
            PostgresQuery(unsafeSQL: "\(JobRow.select) WHERE id = $1", binds: binds(id.rawValue)), logger: logger
        ).first(JobRow.read)?.record
    }
}

/// Reading tasks' attempts on a connection.
enum PostgresTaskRow {
    /// Fills in each task's attempts log, in one query.
    static func withAttempts(
        _ tasks: [(seq: Int64, record: TaskRecord)], on connection: PostgresConnection, logger: Logger
    ) async throws -> [TaskRecord] {
        guard !tasks.isEmpty else { return [] }
        let seqs = tasks.map(\.seq)
        var log: [Int64: [AttemptRecord]] = [:]
        for (seq, attempt) in try await connection.query(
            """
            SELECT task_seq, attempt, started_at, finished_at, status_code, duration_ms, error, error_message
            FROM task_attempts WHERE task_seq = ANY(\(seqs)) ORDER BY task_seq, attempt
            """, logger: logger
        ).map({ row in
            (
                try row.int64(0),
                AttemptRecord(
                    attempt: try row.int(1), startedAt: try row.optionalInt64(2), finishedAt: try row.int64(3),
                    statusCode: try row.optionalInt(4), durationMillis: try row.optionalInt(5),
                    error: try row.optionalString(6), errorMessage: try row.optionalString(7))
            )
        }) {
            log[seq, default: []].append(attempt)
        }
        return tasks.map { AttemptsLog.attach(log[$0.seq] ?? [], to: $0.record) }
    }
}

/// Bindings for a query whose text is built from parts.
func binds(_ values: any PostgresDynamicTypeEncodable...) -> PostgresBindings {
    var bindings = PostgresBindings()
    for value in values { bindings.append(value) }
    return bindings
}
