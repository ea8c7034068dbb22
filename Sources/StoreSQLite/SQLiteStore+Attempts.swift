import Foundation
import JSON
import Store

extension SQLiteStore {
    /// Records results (see `record(_:in:)` for one) and stores the bodies of those recorded, many
    /// rows per statement. Answers, per result, whether it was recorded.
    static func record(_ results: [AttemptResult], in db: Database) throws -> [Bool] {
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
                [.text(JSONWriter.text(ofIntegers: bodiless))])
        }
        return recorded
    }

    /// Records one finished attempt on its task's row (its body is stored by the caller).
    private static func record(_ result: AttemptResult, in db: Database) throws -> Bool {
        let outcome = result.outcome
        let transition = TaskTransition(result.disposition, at: result.finishedAt)
        // The task's own row holds its last attempt. An attempt that is not the last (a retry
        // follows) is kept in `task_attempts` too, before the next one overwrites the row; the
        // last one is shown from the row itself (see `withAttempts`): one insert fewer per task.
        if transition.state == .queued {
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
                body_truncated = ?, duration_ms = ?, error = ?, error_message = ?, failure_reason = ?,
                decoded_from = ?
            WHERE seq = ? AND state = 'running' AND attempts = ?
            """,
            [
                .text(transition.state.rawValue), .integer(transition.nextAttemptAt), .int(transition.waits ? 1 : 0),
                transition.finishedAt.map { .integer($0) } ?? .null,
                .integer(result.finishedAt), .optional(outcome.statusCode),
                .optional(outcome.headers.map(HeaderCoding.encode)), .optional(outcome.bodyBytes),
                .int(outcome.bodyTruncated ? 1 : 0), .optional(outcome.durationMillis),
                .optional(outcome.error), .optional(outcome.errorMessage),
                .optional(transition.failureReason?.rawValue), .optional(outcome.decodedFrom),
                .integer(result.seq), .int(result.attempt),
            ]
        )
        return updated == 1
    }

    /// A lost worker's tasks go back to the queue at once, and the attempt counts: a task whose
    /// last attempt it was fails (`attempts_exhausted`), its outcome saying `error`. Answers how
    /// many tasks moved (a lease no longer running under the same attempt is left alone).
    @discardableResult
    public func returnLost(
        _ leases: [(seq: Int64, attempt: Int)], error: String, message: String, now: Int64
    ) async throws -> Int {
        guard !leases.isEmpty else { return 0 }
        let leases = leases.map { Lease(seq: $0.seq, attempt: $0.attempt) }
        return try await writer.perform { writer in
            try writer.transactionRenderingEvents {
                try leases.reduce(0) { count, lease in
                    count + (try Self.lose(lease, error: error, message: message, now: now, in: writer.db))
                }
            }
        }
    }

    /// Tasks given back at shutdown return to the queue as if they had not started: the attempt
    /// does not count. Answers how many tasks moved.
    @discardableResult
    public func giveBack(_ leases: [(seq: Int64, attempt: Int)], now: Int64, dueAt: Int64) async throws -> Int {
        guard !leases.isEmpty else { return 0 }
        let leases = leases.map { Lease(seq: $0.seq, attempt: $0.attempt) }
        return try await writer.perform { writer in
            try writer.db.transaction {
                try leases.reduce(0) { count, lease in
                    count
                        + (try writer.db.run(
                            """
                            UPDATE tasks SET state = 'queued', attempts = attempts - 1, next_attempt_at = ?4,
                                waiting = ?4 > ?3, updated_at = ?3, lease_expires_at = NULL
                            WHERE seq = ?1 AND state = 'running' AND attempts = ?2
                            """,
                            [.integer(lease.seq), .int(lease.attempt), .integer(now), .integer(dueAt)]))
                }
            }
        }
    }

    private struct Lease: Sendable {
        let seq: Int64
        let attempt: Int
    }

    /// One lost attempt: logged, then the task queued again or failed, as
    /// `TaskTransition.afterLostAttempt` decides.
    private static func lose(_ lease: Lease, error: String, message: String, now: Int64, in db: Database) throws -> Int
    {
        guard
            let maxAttempts = try db.queryOne(
                "SELECT max_attempts FROM tasks WHERE seq = ?1 AND state = 'running' AND attempts = ?2",
                [.integer(lease.seq), .int(lease.attempt)], { $0.int(0) })
        else { return 0 }
        try db.run(
            """
            INSERT OR REPLACE INTO task_attempts
                (task_seq, attempt, started_at, finished_at, duration_ms, error, error_message)
            SELECT seq, attempts, started_at, ?2, ?2 - started_at, ?3, ?4 FROM tasks WHERE seq = ?1
            """,
            [.integer(lease.seq), .integer(now), .text(error), .text(message)])
        let transition = TaskTransition.afterLostAttempt(attempt: lease.attempt, maxAttempts: maxAttempts, now: now)
        return try db.run(
            """
            UPDATE tasks SET state = ?2, failure_reason = ?3, finished_at = ?4, next_attempt_at = ?5,
                updated_at = ?6, lease_expires_at = NULL,
                status_code = NULL, body_bytes = NULL, response_headers = NULL, body_truncated = 0,
                duration_ms = ?6 - started_at, error = ?7, error_message = ?8
            WHERE seq = ?1
            """,
            [
                .integer(lease.seq), .text(transition.state.rawValue), .optional(transition.failureReason?.rawValue),
                transition.finishedAt.map { .integer($0) } ?? .null, .integer(transition.nextAttemptAt), .integer(now),
                .text(error),
                .text(message),
            ])
    }

    /// Returns every `running` task whose lease ran out before `now` to the queue (or fails it if
    /// that was its last attempt).
    @discardableResult
    public func rescueExpired(now: Int64, reason: String) async throws -> Int {
        try await rescue(where: "state = 'running' AND lease_expires_at < ?", [.integer(now)], now: now, reason: reason)
    }

    /// At start-up: every task a previous run left `running` (one node owns the file: they are all
    /// its), back to the queue or failed, as a lost attempt.
    @discardableResult
    public func rescueLeftRunning(now: Int64, reason: String) async throws -> Int {
        try await rescue(where: "state = 'running'", [], now: now, reason: reason)
    }

    private func rescue(where condition: String, _ values: [SQLValue], now: Int64, reason: String) async throws
        -> Int
    {
        try await writer.perform { writer in
            try writer.transactionRenderingEvents {
                let lost = try writer.db.query("SELECT seq, attempts FROM tasks WHERE \(condition)", values) {
                    Lease(seq: $0.int64(0), attempt: $0.int(1))
                }
                return try lost.reduce(0) { count, lease in
                    count + (try Self.lose(lease, error: "lease_expired", message: reason, now: now, in: writer.db))
                }
            }
        }
    }

}

private let bodyInsert = MultiRowInsert(
    "INSERT OR REPLACE INTO task_bodies (task_seq, content_type, body)", columns: 3)
