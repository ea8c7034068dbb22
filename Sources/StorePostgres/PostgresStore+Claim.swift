import Foundation
import Logging
import NIOCore
import PostgresNIO
import Store

// Running tasks: claims, results, lost and given-back attempts, expired leases.

extension PostgresStore {
    /// The advisory lock claims take turns on, so that the per-host limit holds for the cluster.
    static let claimLockKey: Int64 = 7_253_068_941_220_452
    /// How long a host's adapted limit counts after its last change (as `HostLimits` remembers it).
    static let hostLimitMemoryMillis: Int64 = 3_600_000

    public func recordAndClaim(
        _ results: [AttemptResult], limit: Int, now: Int64, leaseMarginMillis: Int, hosts: HostAllowance
    ) async throws -> (recorded: [Bool], claimed: [ClaimedTask]) {
        guard !results.isEmpty || limit > 0 else { return ([], []) }
        return try await transaction { [self] connection in
            // The claim lock before any row lock: recording locks task rows and their job's row (the
            // counters' trigger), and a node holding those while it waits for the lock that another
            // node's claim holds, whose UPDATE waits for those rows, is a deadlock that PostgreSQL
            // breaks only after `deadlock_timeout` (1 s), rolling one batch back.
            if limit > 0 {
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.claimLockKey))", logger: logger)
            }
            let recorded = try await record(results, on: connection)
            let claimed =
                limit > 0
                ? try await claim(
                    limit: limit, now: now, leaseMarginMillis: leaseMarginMillis, hosts: hosts, on: connection) : []
            try await PostgresOutbox.render(on: connection, store: self)
            return (recorded, claimed)
        }
    }

    /// Moves up to `limit` due tasks to `running` on this node, in `ClaimRule.order`. Each host may have at most `hosts.defaultLimit` running across the cluster
    /// (counted under the claim lock, so two nodes never both take the last slot), and no more
    /// than this node's own allowance for it (its pauses and intervals). The caller holds the claim lock.
    private func claim(
        limit: Int, now: Int64, leaseMarginMillis: Int, hosts: HostAllowance, on connection: PostgresConnection
    ) async throws -> [ClaimedTask] {
        // A host's pause (its 429 or 503 with Retry-After, seen by any node, or one made with the API)
        // holds on every node. A paused job's tasks are held, out of `tasks_due` (0005_pause.sql).
        if !hosts.pausedUntil.isEmpty {
            try await connection.query(
                """
                INSERT INTO host_pauses (host, until)
                SELECT * FROM unnest(\(Array(hosts.pausedUntil.keys))::text[], \(Array(hosts.pausedUntil.values))::bigint[])
                ON CONFLICT (host, kind) DO UPDATE SET until = greatest(host_pauses.until, excluded.until)
                """, logger: logger)
        }
        let paused = try await connection.query(
            "SELECT DISTINCT host FROM host_pauses WHERE until > \(now)", logger: logger
        ).map { try $0.string(0) }
        var left: [String: Int] = [:]
        for host in paused { left[host] = 0 }
        if !hosts.limitChanges.isEmpty {
            try await connection.query(
                """
                INSERT INTO host_limits (host, current_limit, updated_at)
                SELECT u.host, u.current_limit, \(now)
                FROM unnest(\(Array(hosts.limitChanges.keys))::text[], \(Array(hosts.limitChanges.values))::int[])
                     AS u(host, current_limit)
                ON CONFLICT (host) DO UPDATE SET current_limit = excluded.current_limit, updated_at = excluded.updated_at
                """, logger: logger)
        }
        if hosts.defaultLimit < Int.max {
            // Running tasks per host, and the hosts whose adapted limit (any node's last change) is
            // below the ceiling, in one statement.
            var running: [String: Int] = [:]
            var limits: [String: Int] = [:]
            for (host, count, adapted) in try await connection.query(
                """
                SELECT host, count(*)::int, NULL::int FROM tasks WHERE state = 'running' GROUP BY host
                UNION ALL
                SELECT host, NULL, current_limit FROM host_limits
                WHERE current_limit < \(hosts.defaultLimit) AND updated_at > \(now - Self.hostLimitMemoryMillis)
                """, logger: logger
            ).map({ (try $0.string(0), try $0.optionalInt(1), try $0.optionalInt(2)) }) {
                if let count { running[host] = count }
                if let adapted { limits[host] = adapted }
            }
            for host in Set(running.keys).union(limits.keys) {
                let limit = min(hosts.defaultLimit, limits[host] ?? .max)
                left[host] = min(left[host] ?? hosts.remaining[host] ?? limit, limit - (running[host] ?? 0))
            }
        }
        for (host, remaining) in hosts.remaining where left[host] == nil { left[host] = remaining }
        let blocked = left.filter { $0.value <= 0 }.map(\.key)
        let window = ClaimRule.window(
            limit: limit, constrained: !left.isEmpty || ClaimRule.readsJobs(hosts), defaultLimit: hosts.defaultLimit)
        let candidates = try await connection.query(
            """
            SELECT \(unescaped: ClaimRule.candidateColumns(hosts)) FROM tasks
            WHERE state = 'queued' AND NOT held AND next_attempt_at <= \(now) AND NOT (host = ANY(\(blocked)::text[]))
            ORDER BY \(unescaped: ClaimRule.order) LIMIT \(window)
            FOR UPDATE SKIP LOCKED
            """, logger: logger
        ).map(ClaimRule.candidate)
        let chosen = ClaimRule.choose(
            candidates, limit: limit, left: left, defaultLimit: hosts.defaultLimit,
            jobs: try await clusterJobAllowance(hosts, on: connection))
        guard !chosen.isEmpty else { return [] }
        return try await connection.query(
            """
            UPDATE tasks SET state = 'running', attempts = attempts + 1, started_at = \(now), updated_at = \(now),
                             lease_expires_at = \(now) + timeout_ms + \(leaseMarginMillis), node_id = \(node.id)
            WHERE seq = ANY(\(chosen)::bigint[])
            RETURNING \(unescaped: ClaimRule.returning)
            """, logger: logger
        ).map(ClaimRule.claimed)
            .sorted { $0.seq < $1.seq }
    }

    /// `hosts` with each job's own limit per host counted across the cluster: a job with limits of
    /// its own may have no more running to a host, on all nodes together, than its limit.
    private func clusterJobAllowance(_ hosts: HostAllowance, on connection: PostgresConnection) async throws
        -> HostAllowance
    {
        guard ClaimRule.readsJobs(hosts) else { return hosts }
        var hosts = hosts
        for (job, host, running) in try await connection.query(
            """
            SELECT job_seq, host, count(*)::int FROM tasks
            WHERE state = 'running' AND job_seq = ANY(\(Array(hosts.jobLimits.keys))::bigint[])
            GROUP BY job_seq, host
            """, logger: logger
        ).map({ (try $0.int64(0), try $0.string(1), try $0.int(2)) }) {
            guard let limits = hosts.jobLimits[job] else { continue }
            let key = JobHostKey(jobSeq: job, host: host)
            hosts.jobRemaining[key] = min(
                hosts.jobRemaining[key] ?? limits.inFlightLimit, limits.inFlightLimit - running)
        }
        return hosts
    }

    /// Records finished attempts, all in three statements: the attempts a retry follows logged,
    /// the task rows updated (only those still `running` under the same attempt), their bodies
    /// stored. Answers, per result, whether it was recorded.
    private func record(_ results: [AttemptResult], on connection: PostgresConnection) async throws -> [Bool] {
        guard !results.isEmpty else { return [] }
        let rows = results.map(RecordedColumns.init)
        let seqs = rows.map(\.seq)
        let attempts = rows.map(\.attempt)
        let finished = rows.map(\.finishedAt)
        let status = rows.map(\.status)
        let duration = rows.map(\.duration)
        let error = rows.map(\.error)
        let message = rows.map(\.message)
        let retries = rows.enumerated().filter { $0.element.state == .queued }.map(\.offset)
        if !retries.isEmpty {
            let pick = { (values: [Int]) in retries.map { values[$0] } }
            let pickText = { (values: [String]) in retries.map { values[$0] } }
            try await connection.query(
                """
                INSERT INTO task_attempts
                    (task_seq, attempt, started_at, finished_at, status_code, duration_ms, error, error_message)
                SELECT t.seq, t.attempts, t.started_at, u.finished, nullif(u.status, -1), nullif(u.duration, -1),
                       CASE WHEN u.error = '' THEN NULL ELSE substr(u.error, 2) END,
                       CASE WHEN u.message = '' THEN NULL ELSE substr(u.message, 2) END
                FROM unnest(\(retries.map { seqs[$0] })::bigint[], \(pick(attempts))::int[],
                            \(retries.map { finished[$0] })::bigint[], \(pick(status))::int[], \(pick(duration))::int[],
                            \(pickText(error))::text[], \(pickText(message))::text[])
                     AS u(seq, attempt, finished, status, duration, error, message)
                JOIN tasks t ON t.seq = u.seq AND t.state = 'running' AND t.attempts = u.attempt
                ON CONFLICT (task_seq, attempt) DO UPDATE SET
                    started_at = excluded.started_at, finished_at = excluded.finished_at,
                    status_code = excluded.status_code, duration_ms = excluded.duration_ms,
                    error = excluded.error, error_message = excluded.error_message
                """, logger: logger)
        }
        let updated = Set(
            try await connection.query(
                """
                UPDATE tasks t SET state = u.state, next_attempt_at = u.next, updated_at = u.finished,
                    finished_at = CASE WHEN u.state = 'queued' THEN NULL ELSE u.finished END,
                    lease_expires_at = NULL, node_id = NULL, status_code = nullif(u.status, -1),
                    response_headers = CASE WHEN u.headers = '' THEN NULL ELSE substr(u.headers, 2) END,
                    body_bytes = nullif(u.body_bytes, -1), body_truncated = u.truncated,
                    duration_ms = nullif(u.duration, -1),
                    error = CASE WHEN u.error = '' THEN NULL ELSE substr(u.error, 2) END,
                    error_message = CASE WHEN u.message = '' THEN NULL ELSE substr(u.message, 2) END,
                    failure_reason = nullif(u.reason, ''), decoded_from = nullif(u.decoded, '')
                FROM unnest(\(seqs)::bigint[], \(attempts)::int[], \(rows.map(\.state.rawValue))::text[],
                            \(rows.map(\.next))::bigint[], \(finished)::bigint[], \(status)::int[],
                            \(rows.map(\.headers))::text[], \(rows.map(\.bodyBytes))::int[],
                            \(rows.map(\.truncated))::bool[], \(duration)::int[], \(error)::text[],
                            \(message)::text[], \(rows.map(\.reason))::text[], \(rows.map(\.decodedFrom))::text[])
                     AS u(seq, attempt, state, next, finished, status, headers, body_bytes, truncated, duration,
                          error, message, reason, decoded)
                WHERE t.seq = u.seq AND t.state = 'running' AND t.attempts = u.attempt
                RETURNING t.seq
                """, logger: logger
            ).map { try $0.int64(0) })
        let stored = results.filter { updated.contains($0.seq) }
        let bodies = stored.compactMap { result in result.body.map { (result.seq, $0) } }
        if !bodies.isEmpty {
            try await connection.query(
                """
                INSERT INTO task_bodies (task_seq, content_type, body)
                SELECT u.seq, nullif(u.type, ''), decode(u.body, 'base64')
                FROM unnest(\(bodies.map(\.0))::bigint[], \(bodies.map { $0.1.contentType ?? "" })::text[],
                            \(bodies.map { Data($0.1.bytes).base64EncodedString() })::text[]) AS u(seq, type, body)
                ON CONFLICT (task_seq) DO UPDATE SET content_type = excluded.content_type, body = excluded.body
                """, logger: logger)
        }
        let bodiless = stored.filter { $0.body == nil }.map(\.seq)
        if !bodiless.isEmpty {
            // An attempt without a response leaves no body, not the body of an earlier attempt.
            try await connection.query(
                "DELETE FROM task_bodies WHERE task_seq = ANY(\(bodiless)::bigint[])", logger: logger)
        }
        return results.map { updated.contains($0.seq) }
    }

    public func returnLost(
        _ leases: [(seq: Int64, attempt: Int)], error: String, message: String, now: Int64
    ) async throws -> Int {
        guard !leases.isEmpty else { return 0 }
        return try await transaction { [self] connection in
            let moved = try await Self.lose(
                leases, error: error, message: message, now: now, on: connection, logger: logger)
            try await PostgresOutbox.render(on: connection, store: self)
            if moved > 0 { try await Self.notifyWork(connection, logger: logger) }
            return moved
        }
    }

    public func giveBack(_ leases: [(seq: Int64, attempt: Int)], now: Int64, dueAt: Int64) async throws -> Int {
        guard !leases.isEmpty else { return 0 }
        return try await transaction { [self] connection in
            let moved = try await connection.query(
                """
                UPDATE tasks t SET state = 'queued', attempts = t.attempts - 1, next_attempt_at = \(dueAt),
                    updated_at = \(now), lease_expires_at = NULL, node_id = NULL
                FROM unnest(\(leases.map(\.seq))::bigint[], \(leases.map(\.attempt))::int[]) AS u(seq, attempt)
                WHERE t.seq = u.seq AND t.state = 'running' AND t.attempts = u.attempt
                RETURNING 1
                """, logger: logger
            ).count()
            if moved > 0 { try await Self.notifyWork(connection, logger: logger) }
            return moved
        }
    }

    /// This node's running tasks whose lease ran out before `now`, back to the queue (the attempt
    /// counting). Other live nodes' tasks are never touched; dead nodes' are the leader's
    /// (`rescueDeadNodes`).
    public func rescueExpired(now: Int64, reason: String) async throws -> Int {
        try await rescue(leftRunning: false, now: now, reason: reason)
    }

    /// At start-up: every task this node left running, and those a previous run on the same host
    /// and port left: that run is over (the port was free), so they need not wait for its TTL.
    public func rescueLeftRunning(now: Int64, reason: String) async throws -> Int {
        try await rescue(leftRunning: true, now: now, reason: reason)
    }

    private func rescue(leftRunning: Bool, now: Int64, reason: String) async throws -> Int {
        try await transaction { [self] connection in
            if leftRunning {
                try await connection.query(
                    "DELETE FROM nodes WHERE host = \(node.host) AND id <> \(node.id)", logger: logger)
            }
            // At start-up, tasks whose node has no row: the previous run here (deleted just now),
            // or a dead node whose row the leader removed before it could move them.
            let selection =
                leftRunning
                ? "node_id = $1 OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = t.node_id)"
                : "node_id = $1 AND lease_expires_at < $2"
            let leases = try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT seq, attempts FROM tasks t WHERE state = 'running' AND (\(selection))
                        FOR UPDATE SKIP LOCKED
                        """, binds: binds(node.id, now)), logger: logger
            ).map { (seq: try $0.int64(0), attempt: try $0.int(1)) }
            let moved = try await Self.lose(
                leases, error: "lease_expired", message: reason, now: now, on: connection, logger: logger)
            try await PostgresOutbox.render(on: connection, store: self)
            if moved > 0 { try await Self.notifyWork(connection, logger: logger) }
            return moved
        }
    }

    /// Lost attempts: each logged, then its task queued again or failed, as
    /// `TaskTransition.afterLostAttempt` decides. Answers how many tasks moved.
    static func lose(
        _ leases: [(seq: Int64, attempt: Int)], error: String, message: String, now: Int64,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> Int {
        var moved = 0
        for lease in leases {
            guard
                let maxAttempts = try await connection.query(
                    """
                    SELECT max_attempts FROM tasks
                    WHERE seq = \(lease.seq) AND state = 'running' AND attempts = \(lease.attempt) FOR UPDATE
                    """, logger: logger
                ).first({ try $0.int(0) })
            else { continue }
            try await connection.query(
                """
                INSERT INTO task_attempts (task_seq, attempt, started_at, finished_at, duration_ms, error, error_message)
                SELECT seq, attempts, started_at, \(now), \(now) - started_at, \(error), \(message)
                FROM tasks WHERE seq = \(lease.seq)
                ON CONFLICT (task_seq, attempt) DO UPDATE SET finished_at = excluded.finished_at,
                    duration_ms = excluded.duration_ms, error = excluded.error, error_message = excluded.error_message
                """, logger: logger)
            let transition = TaskTransition.afterLostAttempt(
                attempt: lease.attempt, maxAttempts: maxAttempts, now: now)
            try await connection.query(
                """
                UPDATE tasks SET state = \(transition.state.rawValue),
                    failure_reason = \(transition.failureReason?.rawValue), finished_at = \(transition.finishedAt),
                    next_attempt_at = \(transition.nextAttemptAt), updated_at = \(now),
                    lease_expires_at = NULL, node_id = NULL, status_code = NULL, body_bytes = NULL,
                    response_headers = NULL, body_truncated = false, duration_ms = \(now) - started_at,
                    error = \(error), error_message = \(message)
                WHERE seq = \(lease.seq)
                """, logger: logger)
            moved += 1
        }
        return moved
    }
}

/// One result as the columns of `record`'s arrays: a missing number is -1, a missing text is ""
/// and a present one "=" and the text (PostgreSQL arrays bound from Swift carry no NULLs).
private struct RecordedColumns {
    let seq: Int64
    let attempt: Int
    let state: TaskState
    let next: Int64
    let finishedAt: Int64
    let status: Int
    let headers: String
    let bodyBytes: Int
    let truncated: Bool
    let duration: Int
    let error: String
    let message: String
    let reason: String
    /// The coding the worker removed; "" for none.
    let decodedFrom: String

    init(_ result: AttemptResult) {
        let outcome = result.outcome
        seq = result.seq
        attempt = result.attempt
        finishedAt = result.finishedAt
        let transition = TaskTransition(result.disposition, at: result.finishedAt)
        (state, next, reason) = (transition.state, transition.nextAttemptAt, transition.failureReason?.rawValue ?? "")
        status = outcome.statusCode ?? -1
        headers = outcome.headers.map { "=" + HeaderCoding.encode($0) } ?? ""
        bodyBytes = outcome.bodyBytes ?? -1
        truncated = outcome.bodyTruncated
        duration = outcome.durationMillis ?? -1
        error = outcome.error.map { "=" + $0 } ?? ""
        message = outcome.errorMessage.map { "=" + $0 } ?? ""
        decodedFrom = outcome.decodedFrom ?? ""
    }
}
