import Foundation
import Logging
import PostgresNIO
import Store

/// The columns of a job as read for the API (the same as the SQLite engine's), and how to read them.
enum PostgresJobRow {
    /// The SQLite engine's column list, shared: the reader below takes the columns by position.
    static var select: String { JobRow.select }

    static func read(_ row: PostgresColumns) throws -> (seq: Int64, record: JobRecord) {
        let counts = try StateCounts(row, from: 5)
        let events = try row.int(11)
        return (
            try row.int64(13),
            JobRecord(
                id: JobID(trusted: try row.string(0)), callbackURL: try row.optionalString(10),
                callbackEvents: EventType.allCases.filter { events & $0.bit != 0 }, taskCount: try row.int(1),
                timeoutMillis: try row.int(2), createdAt: try row.int64(3), finishedAt: try row.optionalInt64(4),
                counts: counts, isOpen: try row.bool(12))
        )
    }

    static func job(seq: Int64, on connection: PostgresConnection, logger: Logger) async throws -> JobRecord? {
        try await connection.query(
            PostgresQuery(unsafeSQL: "\(select) WHERE seq = $1", binds: binds(seq)), logger: logger
        )
        .first(read)?.record
    }

    static func job(id: JobID, on connection: PostgresConnection, logger: Logger) async throws -> JobRecord? {
        try await connection.query(
            PostgresQuery(unsafeSQL: "\(select) WHERE id = $1", binds: binds(id.rawValue)), logger: logger
        ).first(read)?.record
    }
}

/// The columns of a task as read for the API, and how to read them.
enum PostgresTaskRow {
    /// The SQLite engine's column list, shared: the reader below takes the columns by position.
    static var select: String { TaskRow.select }

    static func read(_ row: PostgresColumns) throws -> (seq: Int64, record: TaskRecord) {
        guard let state = TaskState(rawValue: try row.string(6)) else {
            throw StoreError(.postgres, "unknown task state \(try row.string(6))")
        }
        let attempted = !row.isNull(16) || !row.isNull(20) || !row.isNull(21)
        let outcome =
            attempted
            ? Outcome(
                statusCode: try row.optionalInt(16),
                headers: try row.optionalString(17).map(HeaderCoding.decode),
                bodyBytes: try row.optionalInt(18), bodyTruncated: try row.bool(19),
                durationMillis: try row.optionalInt(20), error: try row.optionalString(21),
                errorMessage: try row.optionalString(22))
            : nil
        let record = TaskRecord(
            id: TaskID(trusted: try row.string(0)), jobID: JobID(trusted: try row.string(1)),
            request: FetchRequest(
                url: try row.string(2), method: try row.string(3), headers: HeaderCoding.decode(try row.string(4)),
                body: try row.bytes(5)),
            state: state, failureReason: try row.optionalString(24).flatMap(FailureReason.init(rawValue:)),
            priority: try row.int(7), attempts: try row.int(8), maxAttempts: try row.int(9),
            timeoutMillis: try row.int(10), nextAttemptAt: state == .queued ? try row.int64(11) : nil,
            createdAt: try row.int64(12), updatedAt: try row.int64(13), startedAt: try row.optionalInt64(14),
            finishedAt: try row.optionalInt64(15), host: try row.string(25), outcome: outcome, attemptsLog: [])
        return (try row.int64(23), record)
    }

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

extension StateCounts {
    /// Counts read from five columns of `row`, from `first` on: queued, running, succeeded, failed,
    /// canceled (the order of the `jobs.n_*` columns), as the SQLite engine's reader takes them.
    init(_ row: PostgresColumns, from first: Int) throws {
        self.init()
        queued = try row.int(first)
        running = try row.int(first + 1)
        succeeded = try row.int(first + 2)
        failed = try row.int(first + 3)
        canceled = try row.int(first + 4)
    }
}

/// Bindings for a query whose text is built from parts.
func binds(_ values: any PostgresDynamicTypeEncodable...) -> PostgresBindings {
    var bindings = PostgresBindings()
    for value in values { bindings.append(value) }
    return bindings
}
