import Foundation
import Logging

/// The durable home of jobs and tasks: one verb per state transition plus the reads the API needs.
///
/// All writes go through one connection on one serial queue (the supervisor is the database's only
/// writer); reads use a pool of read-only connections and never wait for a write to commit.
public final class Store: Sendable {
    let writer: WriteConnection
    let readers: ReaderPool
    let submissions = SubmissionQueue()
    private let checkpointer: Checkpointer
    public let path: String

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String, now: Int64 = WallClock.nowMillis(), logger: Logger) throws {
        let isNew = !FileManager.default.fileExists(atPath: path)
        let db = try Database(path: path, mode: .readWrite)
        // The database holds request headers (tokens, cookies): readable by its owner only.
        if isNew { try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path) }
        try db.execute(
            """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            PRAGMA foreign_keys = ON;
            PRAGMA temp_store = MEMORY;
            PRAGMA journal_size_limit = 67108864;
            PRAGMA cache_size = -8192;
            """
        )
        try Migrator(migrations: Migration.embedded).migrate(db, now: now, logger: logger)
        // Checkpoints run beside the writer, not inside its commits.
        try db.execute("PRAGMA wal_autocheckpoint = 0")
        self.path = path
        self.writer = WriteConnection(WriterState(db: db))
        self.readers = ReaderPool(path: path)
        self.checkpointer = try Checkpointer(path: path, logger: logger)
    }

    /// Applies pending migrations to the database at `path`; answers the versions applied.
    @discardableResult
    public static func migrate(path: String, logger: Logger) throws -> [Int] {
        let db = try Database(path: path, mode: .readWrite)
        try db.execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
        return try Migrator(migrations: Migration.embedded).migrate(db, now: WallClock.nowMillis(), logger: logger)
    }

    /// The versions of the migrations this binary carries.
    public static var knownMigrations: [Int] { Migration.embedded.map(\.version) }

    // MARK: - Writes

    /// How many more tasks each host may have in flight. Hosts not listed may have `defaultLimit`.
    public struct HostAllowance: Sendable {
        public var defaultLimit: Int
        public var remaining: [String: Int]

        public init(defaultLimit: Int = .max, remaining: [String: Int] = [:]) {
            self.defaultLimit = defaultLimit
            self.remaining = remaining
        }
    }

    /// Moves up to `limit` due tasks from `queued` to `running`, highest priority first, then in
    /// submit order, within each host's allowance, and counts the attempt. Each lease runs out
    /// `leaseMarginMillis` after the task's own timeout. Hosts with no allowance left are skipped
    /// in the index itself, so a host at its limit never holds back the tasks of others.
    public func claim(
        limit: Int, now: Int64, leaseMarginMillis: Int, hosts: HostAllowance = HostAllowance()
    ) async throws -> [ClaimedTask] {
        guard limit > 0 else { return [] }
        return try await writer.perform { writer in
            try writer.db.transaction(.written) {
                try Self.claim(
                    limit: limit, now: now, leaseMarginMillis: leaseMarginMillis, hosts: hosts, in: writer.db)
            }
        }
    }

    /// Records finished attempts (as `record`) and then claims due tasks (as `claim`), in one
    /// transaction: the scheduler's whole write per pass, so one commit instead of two.
    public func recordAndClaim(
        _ results: [AttemptResult], limit: Int, now: Int64, leaseMarginMillis: Int,
        hosts: HostAllowance = HostAllowance()
    ) async throws -> (recorded: [Bool], claimed: [ClaimedTask]) {
        guard !results.isEmpty || limit > 0 else { return ([], []) }
        return try await writer.perform { writer in
            try writer.db.transaction(.written) {
                let recorded = try Self.record(results, in: writer.db)
                let claimed =
                    limit > 0
                    ? try Self.claim(
                        limit: limit, now: now, leaseMarginMillis: leaseMarginMillis, hosts: hosts, in: writer.db)
                    : []
                return (recorded, claimed)
            }
        }
    }

    private static func claim(
        limit: Int, now: Int64, leaseMarginMillis: Int, hosts: HostAllowance, in db: Database
    ) throws -> [ClaimedTask] {
        let blocked = hosts.remaining.filter { $0.value <= 0 }.map(\.key)
        let blockedJSON = HeaderCoding.encodeStrings(blocked)
        let window = hosts.remaining.isEmpty && hosts.defaultLimit >= limit ? limit : max(limit * 4, 256)
        // Tasks whose time has come stop waiting (see migrations/0003_waiting_tasks.sql).
        try db.run(
            "UPDATE tasks SET waiting = 0 WHERE state = 'queued' AND waiting = 1 AND next_attempt_at <= ?",
            [.integer(now)])
        let candidates = try db.query(
            """
            SELECT seq, host FROM tasks
            WHERE state = 'queued' AND waiting = 0 AND next_attempt_at <= ?1
              AND host NOT IN (SELECT value FROM json_each(?2))
            ORDER BY priority DESC, seq LIMIT ?3
            """,
            [.integer(now), .text(blockedJSON), .int(window)]
        ) { (seq: $0.int64(0), host: $0.string(1)) }
        var left = hosts.remaining
        var chosen: [Int64] = []
        for candidate in candidates where chosen.count < limit {
            let allowance = left[candidate.host] ?? hosts.defaultLimit
            guard allowance > 0 else { continue }
            left[candidate.host] = allowance - 1
            chosen.append(candidate.seq)
        }
        guard !chosen.isEmpty else { return [] }
        return try db.query(
            """
            UPDATE tasks SET state = 'running', attempts = attempts + 1, started_at = ?1, updated_at = ?1,
                             lease_expires_at = ?1 + timeout_ms + ?2
            WHERE seq IN (SELECT value FROM json_each(?3))
            RETURNING seq, id, job_seq, host, url, method, headers, body, timeout_ms, attempts, max_attempts,
                      retry_base_ms, retry_max_ms
            """,
            [
                .integer(now), .int(leaseMarginMillis),
                .text("[\(chosen.map(String.init).joined(separator: ","))]"),
            ]
        ) { row in
            ClaimedTask(
                seq: row.int64(0), id: TaskID(trusted: row.string(1)), jobSeq: row.int64(2),
                host: row.string(3),
                request: FetchRequest(
                    url: row.string(4), method: row.string(5), headers: HeaderCoding.decodePairs(row.string(6)),
                    body: row.bytes(7)),
                timeoutMillis: row.int(8), attempt: row.int(9), maxAttempts: row.int(10),
                retryBaseMillis: row.optionalInt(11), retryMaxMillis: row.optionalInt(12)
            )
        }
        .sorted { $0.seq < $1.seq }
    }

    /// Puts a `failed` or `canceled` task back to `queued` with fresh attempts. Nil when there is
    /// no such task; false when it is in another state.
    public func retry(task id: TaskID, now: Int64) async throws -> Bool? {
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

    /// Records finished attempts in one transaction. A result whose task is no longer `running`
    /// under the same attempt (it was canceled, or rescued and handed out again) is ignored.
    /// Answers, for each result in order, whether it was recorded.
    public func record(_ results: [AttemptResult]) async throws -> [Bool] {
        guard !results.isEmpty else { return [] }
        return try await writer.perform { writer in
            try writer.db.transaction(.written) { try Self.record(results, in: writer.db) }
        }
    }

    /// Records results (see `record(_:in:)` for one) and stores the bodies of those recorded, many
    /// rows per statement. Answers, per result, whether it was recorded.
    private static func record(_ results: [AttemptResult], in db: Database) throws -> [Bool] {
        let recorded = try results.map { try record($0, in: db) }
        var bodies: [(seq: Int64, body: StoredBody)] = []
        var bodiless: [Int64] = []
        for (result, stored) in zip(results, recorded) where stored {
            if let body = result.body { bodies.append((result.seq, body)) } else { bodiless.append(result.seq) }
        }
        try bodyInsert.run(rows: bodies.count, in: db) { index, values in
            let (seq, body) = bodies[index]
            values += [.integer(seq), .optional(body.contentType), .blob(body.bytes)]
        }
        if !bodiless.isEmpty {
            // An attempt without a response leaves no body, not the body of an earlier attempt.
            try db.run(
                "DELETE FROM task_bodies WHERE task_seq IN (SELECT value FROM json_each(?))",
                [.text("[\(bodiless.map(String.init).joined(separator: ","))]")])
        }
        return recorded
    }

    /// Records one finished attempt on its task's row (its body is stored by the caller).
    private static func record(_ result: AttemptResult, in db: Database) throws -> Bool {
        let outcome = result.outcome
        let (state, nextAttempt, finished, reason): (TaskState, Int64, Int64?, FailureReason?) =
            switch result.disposition {
            case .succeeded: (.succeeded, result.finishedAt, result.finishedAt, nil)
            case .failed(let reason): (.failed, result.finishedAt, result.finishedAt, reason)
            case .retry(let at): (.queued, at, nil, nil)
            }
        // The task's own row holds its last attempt. An attempt that is not the last (a retry
        // follows) is kept in `task_attempts` too, before the next one overwrites the row; the
        // last one is shown from the row itself (see `withAttempts`): one insert fewer per task.
        if state == .queued {
            let logged = try db.run(
                """
                INSERT OR REPLACE INTO task_attempts
                    (task_seq, attempt, started_at, finished_at, status_code, duration_ms, error, error_message)
                SELECT seq, attempts, started_at, ?3, ?4, ?5, ?6, ?7 FROM tasks
                WHERE seq = ?1 AND state = 'running' AND attempts = ?2
                """,
                [
                    .integer(result.seq), .int(result.attempt), .integer(result.finishedAt),
                    .optional(outcome.statusCode), .optional(outcome.durationMillis), .optional(outcome.error),
                    .optional(outcome.errorMessage),
                ])
            guard logged == 1 else { return false }
        }
        let updated = try db.run(
            """
            UPDATE tasks SET state = ?, next_attempt_at = ?, waiting = ?, finished_at = ?, updated_at = ?,
                lease_expires_at = NULL, status_code = ?, response_headers = ?, body_bytes = ?,
                body_truncated = ?, duration_ms = ?, error = ?, error_message = ?, failure_reason = ?
            WHERE seq = ? AND state = 'running' AND attempts = ?
            """,
            [
                .text(state.rawValue), .integer(nextAttempt),
                .int(state == .queued && nextAttempt > result.finishedAt ? 1 : 0),
                finished.map { .integer($0) } ?? .null,
                .integer(result.finishedAt), .optional(outcome.statusCode),
                .optional(outcome.headers.map(HeaderCoding.encode)), .optional(outcome.bodyBytes),
                .int(outcome.bodyTruncated ? 1 : 0), .optional(outcome.durationMillis),
                .optional(outcome.error), .optional(outcome.errorMessage), .optional(reason?.rawValue),
                .integer(result.seq), .int(result.attempt),
            ]
        )
        return updated == 1
    }

    /// Returns interrupted attempts to the queue at once: their worker died, or the service
    /// stopped before they ended. When `countAttempt` is false the attempt is given back; when it
    /// is true and it was the last one, the task fails with `error`.
    @discardableResult
    public func requeue(
        _ leases: [(seq: Int64, attempt: Int)], countAttempt: Bool, error: String, message: String, now: Int64
    ) async throws -> Int {
        guard !leases.isEmpty else { return 0 }
        let leases = leases.map { Lease(seq: $0.seq, attempt: $0.attempt) }
        return try await writer.perform { writer in
            try writer.db.transaction {
                try leases.reduce(0) { count, lease in
                    count
                        + (try Self.requeue(
                            lease, countAttempt: countAttempt, error: error, message: message, now: now, in: writer.db))
                }
            }
        }
    }

    private struct Lease: Sendable {
        let seq: Int64
        let attempt: Int
    }

    private static func requeue(
        _ lease: Lease, countAttempt: Bool, error: String, message: String, now: Int64, in db: Database
    ) throws -> Int {
        if countAttempt {
            try db.run(
                """
                INSERT OR REPLACE INTO task_attempts
                    (task_seq, attempt, started_at, finished_at, duration_ms, error, error_message)
                SELECT seq, attempts, started_at, ?3, ?3 - started_at, ?4, ?5 FROM tasks
                WHERE seq = ?1 AND state = 'running' AND attempts = ?2
                """,
                [.integer(lease.seq), .int(lease.attempt), .integer(now), .text(error), .text(message)]
            )
            return try db.run(
                """
                UPDATE tasks SET state = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END,
                    failure_reason = CASE WHEN attempts < max_attempts THEN NULL ELSE 'attempts_exhausted' END,
                    finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE ?3 END,
                    next_attempt_at = ?3, updated_at = ?3, lease_expires_at = NULL,
                    status_code = NULL, body_bytes = NULL, response_headers = NULL, body_truncated = 0,
                    duration_ms = ?3 - started_at, error = ?4, error_message = ?5
                WHERE seq = ?1 AND state = 'running' AND attempts = ?2
                """,
                [.integer(lease.seq), .int(lease.attempt), .integer(now), .text(error), .text(message)]
            )
        }
        return try db.run(
            """
            UPDATE tasks SET state = 'queued', attempts = attempts - 1, next_attempt_at = ?3, updated_at = ?3,
                lease_expires_at = NULL
            WHERE seq = ?1 AND state = 'running' AND attempts = ?2
            """,
            [.integer(lease.seq), .int(lease.attempt), .integer(now)]
        )
    }

    /// Returns every `running` task whose lease ran out before `now` to the queue (or fails it if
    /// that was its last attempt). At start-up, with `now = .max`, this rescues every task a
    /// previous run left `running`.
    @discardableResult
    public func rescueExpired(now: Int64, reason: String) async throws -> Int {
        try await writer.perform { writer in
            try writer.db.transaction {
                let expired = try writer.db.query(
                    "SELECT seq, attempts FROM tasks WHERE state = 'running' AND lease_expires_at < ?",
                    [.integer(now)]
                ) { Lease(seq: $0.int64(0), attempt: $0.int(1)) }
                let stamp = now == .max ? WallClock.nowMillis() : now
                return try expired.reduce(0) { count, lease in
                    count
                        + (try Self.requeue(
                            lease, countAttempt: true, error: "lease_expired", message: reason, now: stamp,
                            in: writer.db))
                }
            }
        }
    }

    /// What a cancel did: how many tasks became `canceled`, and which of them were running (their
    /// workers should abort them).
    public struct Cancellation: Sendable {
        public let canceled: Int
        public let running: [Int64]
    }

    /// Cancels every queued or running task of a job. Nil when there is no such job.
    public func cancel(job id: JobID, now: Int64) async throws -> Cancellation? {
        try await writer.perform { writer in
            try writer.db.transaction {
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
                return Cancellation(canceled: canceled, running: running)
            }
        }
    }

    /// Cancels one task if it is queued or running. Nil when there is no such task.
    public func cancel(task id: TaskID, now: Int64) async throws -> Cancellation? {
        try await writer.perform { writer in
            try writer.db.transaction {
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

    /// The earliest `next_attempt_at` among queued tasks, so the scheduler knows when to look again.
    public func nextDueTime() async throws -> Int64? {
        try await writer.perform { writer in
            try writer.db.queryOne("SELECT min(next_attempt_at) FROM tasks WHERE state = 'queued'") {
                $0.isNull(0) ? nil : $0.int64(0)
            } ?? nil
        }
    }

    // MARK: - Reads

    /// A job with its counts per state.
    public func job(_ id: JobID) throws -> JobRecord? {
        try readers.withReader { db in
            try db.queryOne(
                """
                SELECT id, task_count, timeout_ms, created_at, finished_at,
                       n_queued, n_running, n_succeeded, n_failed, n_canceled, callback_url, callback_events
                FROM jobs WHERE id = ?
                """,
                [.text(id.rawValue)]
            ) { row in
                var counts = StateCounts()
                counts.queued = row.int(5)
                counts.running = row.int(6)
                counts.succeeded = row.int(7)
                counts.failed = row.int(8)
                counts.canceled = row.int(9)
                let events = row.int(11)
                return JobRecord(
                    id: JobID(trusted: row.string(0)), callbackURL: row.optionalString(10),
                    callbackEvents: EventType.allCases.filter { events & $0.bit != 0 }, taskCount: row.int(1),
                    timeoutMillis: row.int(2),
                    createdAt: row.int64(3), finishedAt: row.isNull(4) ? nil : row.int64(4), counts: counts)
            }
        }
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

    /// How many of a task's most recent attempts a read shows.
    public static let attemptsShown = 20

    /// The last attempt of a finished task, from the task's own row (`record` does not copy it
    /// into `task_attempts`).
    private static func lastAttempt(of task: TaskRecord) -> AttemptRecord? {
        guard task.state == .succeeded || task.state == .failed, task.attempts > 0,
            let outcome = task.outcome, let finishedAt = task.finishedAt
        else { return nil }
        return AttemptRecord(
            attempt: task.attempts, startedAt: task.startedAt, finishedAt: finishedAt, statusCode: outcome.statusCode,
            durationMillis: outcome.durationMillis, error: outcome.error, errorMessage: outcome.errorMessage)
    }

    /// Fills in the attempts log of each task, in one query.
    private static func withAttempts(_ tasks: [(seq: Int64, record: TaskRecord)], _ db: Database) throws -> [TaskRecord]
    {
        guard !tasks.isEmpty else { return [] }
        let seqs = "[\(tasks.map { String($0.seq) }.joined(separator: ","))]"
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
        return tasks.map { task in
            var record = task.record
            var attempts = log[task.seq] ?? []
            if let last = lastAttempt(of: record) {
                // The row is the latest word on its attempt (a row logged by a retry's cleanup or an
                // earlier run of the task has the same number).
                attempts.removeAll { $0.attempt == last.attempt }
                attempts.append(last)
                attempts.sort { $0.attempt < $1.attempt }
            }
            record.attemptsLog = Array(attempts.suffix(attemptsShown))
            return record
        }
    }

    /// A task's stored response body: `.noTask` when the task does not exist, `.noBody` when no
    /// response has been stored for it yet.
    public enum BodyLookup: Sendable {
        case noTask
        case noBody
        case body(StoredBody, truncated: Bool)
    }

    public func body(of id: TaskID) throws -> BodyLookup {
        try readers.withReader { db in
            try db.queryOne(
                """
                SELECT t.body_truncated, b.task_seq IS NOT NULL, b.content_type, b.body
                FROM tasks t LEFT JOIN task_bodies b ON b.task_seq = t.seq WHERE t.id = ?
                """,
                [.text(id.rawValue)]
            ) { row -> BodyLookup in
                guard row.int(1) == 1 else { return .noBody }
                return .body(
                    StoredBody(contentType: row.optionalString(2), bytes: row.bytes(3) ?? []),
                    truncated: row.int(0) == 1)
            } ?? .noTask
        }
    }

    /// Counts of all tasks per state, across jobs.
    public func totals() throws -> StateCounts {
        try readers.withReader { db in
            try db.queryOne(
                "SELECT sum(n_queued), sum(n_running), sum(n_succeeded), sum(n_failed), sum(n_canceled) FROM jobs"
            ) { row in
                var counts = StateCounts()
                counts.queued = row.int(0)
                counts.running = row.int(1)
                counts.succeeded = row.int(2)
                counts.failed = row.int(3)
                counts.canceled = row.int(4)
                return counts
            } ?? StateCounts()
        }
    }
}

extension Database {
    /// A job's row id, from its public id.
    func jobSeq(_ id: JobID) throws -> Int64? {
        try queryOne("SELECT seq FROM jobs WHERE id = ?", [.text(id.rawValue)]) { $0.int64(0) }
    }
}

/// The columns of a task as read for the API, and how to turn them into a `TaskRecord`.
private enum TaskRow {
    static let select = """
        SELECT t.id, j.id, t.url, t.method, t.headers, t.body, t.state, t.priority, t.attempts, t.max_attempts,
               t.timeout_ms, t.next_attempt_at, t.created_at, t.updated_at, t.started_at, t.finished_at,
               t.status_code, t.response_headers, t.body_bytes, t.body_truncated, t.duration_ms, t.error,
               t.error_message, t.seq, t.failure_reason
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
                statusCode: row.optionalInt(16), headers: row.optionalString(17).map(HeaderCoding.decodeObject),
                bodyBytes: row.optionalInt(18), bodyTruncated: row.int(19) == 1, durationMillis: row.optionalInt(20),
                error: row.optionalString(21), errorMessage: row.optionalString(22))
            : nil
        let record = TaskRecord(
            id: TaskID(trusted: row.string(0)), jobID: JobID(trusted: row.string(1)),
            request: FetchRequest(
                url: row.string(2), method: row.string(3), headers: HeaderCoding.decodePairs(row.string(4)),
                body: row.bytes(5)),
            state: state, failureReason: row.optionalString(24).flatMap(FailureReason.init(rawValue:)),
            priority: row.int(7), attempts: row.int(8), maxAttempts: row.int(9),
            timeoutMillis: row.int(10),
            nextAttemptAt: state == .queued ? row.int64(11) : nil, createdAt: row.int64(12), updatedAt: row.int64(13),
            startedAt: row.isNull(14) ? nil : row.int64(14), finishedAt: row.isNull(15) ? nil : row.int64(15),
            outcome: outcome, attemptsLog: [])
        return (row.int64(23), record)
    }
}

/// Opaque page cursors: base64url of the last row's position. Users never see bare row numbers.
enum Cursor {
    static func encode(_ seq: Int64) -> String {
        Data("t\(seq)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) throws -> Int64 {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard text.count <= 32, let data = Data(base64Encoded: base64),
            let decoded = String(data: data, encoding: .utf8), decoded.first == "t",
            let seq = Int64(decoded.dropFirst()), seq >= 0
        else { throw StoreError(.invalidCursor, "the cursor is not one this service issued") }
        return seq
    }
}

/// Request headers are stored as a JSON array of `[name, value]` pairs (order and repeats kept);
/// response headers as a JSON object. Written by hand: this runs for every task twice, and
/// Foundation's JSONSerialization was the largest cost of recording results when profiled.
enum HeaderCoding {
    static func encode(_ pairs: [(String, String)]) -> String {
        guard !pairs.isEmpty else { return "[]" }
        var output = JSONText(capacity: 64 * pairs.count)
        output.append(UInt8(ascii: "["))
        for (index, pair) in pairs.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            output.append(UInt8(ascii: "["))
            output.append(string: pair.0)
            output.append(UInt8(ascii: ","))
            output.append(string: pair.1)
            output.append(UInt8(ascii: "]"))
        }
        output.append(UInt8(ascii: "]"))
        return output.text
    }

    static func encode(_ object: [String: String]) -> String {
        var output = JSONText(capacity: 48 * object.count + 2)
        output.append(UInt8(ascii: "{"))
        for (index, entry) in object.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            output.append(string: entry.key)
            output.append(UInt8(ascii: ":"))
            output.append(string: entry.value)
        }
        output.append(UInt8(ascii: "}"))
        return output.text
    }

    static func encodeStrings(_ strings: [String]) -> String {
        var output = JSONText(capacity: 32 * strings.count + 2)
        output.append(UInt8(ascii: "["))
        for (index, string) in strings.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            output.append(string: string)
        }
        output.append(UInt8(ascii: "]"))
        return output.text
    }

    /// The pairs `encode(_: [(String, String)])` wrote; empty if `text` is not such an array.
    static func decodePairs(_ text: String) -> [(String, String)] {
        guard text != "[]" else { return [] }
        var scanner = StringsScanner(text)
        var pairs: [(String, String)] = []
        guard scanner.take("[") else { return [] }
        repeat {
            guard scanner.take("["), let name = scanner.string(), scanner.take(","), let value = scanner.string(),
                scanner.take("]")
            else { return [] }
            pairs.append((name, value))
        } while scanner.take(",")
        return scanner.take("]") && scanner.atEnd ? pairs : []
    }

    /// The object `encode(_: [String: String])` wrote; empty if `text` is not such an object.
    static func decodeObject(_ text: String) -> [String: String] {
        var scanner = StringsScanner(text)
        var object: [String: String] = [:]
        guard scanner.take("{") else { return [:] }
        if scanner.take("}") { return scanner.atEnd ? object : [:] }
        repeat {
            guard let key = scanner.string(), scanner.take(":"), let value = scanner.string() else { return [:] }
            object[key] = value
        } while scanner.take(",")
        return scanner.take("}") && scanner.atEnd ? object : [:]
    }
}

/// JSON text built as UTF-8 bytes; a string with nothing to escape (`"`, `\`, controls), as most
/// header names and values are, is copied whole. Appending pieces to a `String` was 6 % of the
/// supervisor's CPU when profiled (it runs for every task).
private struct JSONText {
    private var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    mutating func append(_ byte: UInt8) { bytes.append(byte) }

    /// `text` as a JSON string, quotes included.
    mutating func append(string text: String) {
        bytes.append(UInt8(ascii: "\""))
        if text.utf8.contains(where: Self.needsEscape) {
            for byte in text.utf8 {
                if Self.needsEscape(byte) { appendEscape(byte) } else { bytes.append(byte) }
            }
        } else {
            bytes.append(contentsOf: text.utf8)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private mutating func appendEscape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
        case UInt8(ascii: "\n"): bytes.append(UInt8(ascii: "n"))
        case UInt8(ascii: "\r"): bytes.append(UInt8(ascii: "r"))
        case UInt8(ascii: "\t"): bytes.append(UInt8(ascii: "t"))
        default:
            let hex = Array("0123456789abcdef".utf8)
            bytes.append(contentsOf: [
                UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)],
            ])
        }
    }
}

/// Reads the JSON that `HeaderCoding` writes: punctuation and strings, no white space. Strings
/// without escapes are copied whole; escapes are decoded, including `\u` surrogate pairs.
private struct StringsScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    var atEnd: Bool { index == bytes.count }

    mutating func take(_ mark: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(mark.value) else { return false }
        index += 1
        return true
    }

    mutating func string() -> String? {
        guard take("\"") else { return nil }
        let first = plainRun()
        // Most strings hold no escape: the first run ends at the closing quote.
        if take("\"") { return String(decoding: first, as: UTF8.self) }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: String(decoding: first, as: UTF8.self).unicodeScalars)
        while take("\\") {
            guard let scalar = escaped() else { return nil }
            scalars.append(scalar)
            scalars.append(contentsOf: String(decoding: plainRun(), as: UTF8.self).unicodeScalars)
        }
        return take("\"") ? String(scalars) : nil
    }

    /// The bytes up to the next quote or back slash.
    private mutating func plainRun() -> ArraySlice<UInt8> {
        let start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
            index += 1
        }
        return bytes[start..<index]
    }

    /// The character an escape stands for, the back slash already taken.
    private mutating func escaped() -> Unicode.Scalar? {
        guard index < bytes.count else { return nil }
        let escape = bytes[index]
        index += 1
        switch escape {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            guard var value = hex4() else { return nil }
            if (0xD800..<0xDC00).contains(value) {
                guard take("\\"), take("u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            }
            return Unicode.Scalar(value)
        default: return nil
        }
    }

    private mutating func hex4() -> UInt32? {
        guard bytes.count - index >= 4 else { return nil }
        var value: UInt32 = 0
        for byte in bytes[index..<(index + 4)] {
            guard let digit = Self.hexValue(byte) else { return nil }
            value = value << 4 | digit
        }
        index += 4
        return value
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}

/// Wall-clock time in milliseconds since the Unix epoch, the unit of every stored time.
public enum WallClock {
    public static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}

private let bodyInsert = MultiRowInsert(
    "INSERT OR REPLACE INTO task_bodies (task_seq, content_type, body)", columns: 3)
