import Foundation
import Logging
import NIOCore
import PostgresNIO
import Store

// Submissions: a job and all its tasks stored durably, or nothing.

extension PostgresStore {
    public func submit(_ job: NewJob, idempotency: Idempotency?, now: Int64) async throws -> SubmitOutcome {
        try await store(job, into: nil, idempotency: idempotency, now: now)
    }

    public func append(_ tasks: [NewTask], to id: JobID, idempotency: Idempotency?, now: Int64) async throws
        -> SubmitOutcome
    {
        try await store(NewJob(tasks: tasks, timeoutMillis: 1), into: id, idempotency: idempotency, now: now)
    }

    public func seal(job id: JobID, now: Int64) async throws -> SealOutcome {
        try await transaction { [self] connection in
            guard let seq = try await Self.jobSeq(id, on: connection, logger: logger) else { return .notFound }
            try await Self.close(jobSeq: seq, now: now, on: connection, logger: logger)
            try await PostgresOutbox.render(on: connection, store: self)
            guard let job = try await PostgresJobRow.job(seq: seq, on: connection, logger: logger) else {
                return .notFound
            }
            return .sealed(job)
        }
    }

    /// One durable transaction: the idempotency key checked (and, on a new key, taken under a
    /// transaction-scoped advisory lock on the key, so the same key sent to two nodes at once makes
    /// one job), the job or the appended tasks inserted, the key's answer recorded, and every node
    /// told that work is due.
    private func store(_ job: NewJob, into: JobID?, idempotency: Idempotency?, now: Int64) async throws
        -> SubmitOutcome
    {
        try await transaction(durable: true) { [self] connection in
            if let idempotency {
                try await connection.query(
                    "SELECT pg_advisory_xact_lock(hashtextextended(\(idempotency.key), 0))", logger: logger)
                try await connection.query(
                    "DELETE FROM idempotency_keys WHERE created_at < \(now - Idempotency.windowMillis)",
                    logger: logger)
                let earlier = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "\(Idempotency.selectEarlier) WHERE key = $1", binds: binds(idempotency.key)),
                    logger: logger
                ).first(Idempotency.EarlierUse.read)
                if let outcome = idempotency.outcome(after: earlier) { return outcome }
            }
            let submitted =
                if let into {
                    try await append(job.tasks, to: into, now: now, on: connection)
                } else {
                    try await insert(job, now: now, on: connection)
                }
            if let idempotency {
                try await connection.query(
                    """
                    INSERT INTO idempotency_keys (key, request_hash, status, response, created_at)
                    VALUES (\(idempotency.key), \(idempotency.requestHash), \(idempotency.status),
                            \(ByteBuffer(bytes: idempotency.render(submitted))), \(now))
                    """, logger: logger)
            }
            if !job.tasks.isEmpty { try await Self.notifyWork(connection, logger: logger) }
            return .created(submitted)
        }
    }

    private func insert(_ job: NewJob, now: Int64, on connection: PostgresConnection) async throws -> SubmittedJob {
        let plan = DuplicatePlan(job.tasks, unique: job.uniqueURLs)
        let jobID = nextID(millis: now)
        let events = job.callback?.events.reduce(0) { $0 | $1.bit } ?? 0
        guard
            let jobSeq = try await connection.query(
                """
                INSERT INTO jobs (id, task_count, timeout_ms, created_at, n_queued, callback_url, callback_events,
                                  callback_secret, open, robots_txt, host_concurrency, host_interval_ms, unique_urls)
                VALUES (\(jobID), \(plan.toInsert.count), \(job.timeoutMillis), \(now), \(plan.toInsert.count),
                        \(job.callback?.url), \(events), \(job.callback?.secret), \(job.open), \(job.robots.rawValue),
                        \(job.hostLimits?.concurrency), \(job.hostLimits?.intervalMillis), \(job.uniqueURLs))
                RETURNING seq
                """, logger: logger
            ).first({ try $0.int64(0) })
        else { throw StoreError(.postgres, "job insert returned no row") }
        let inserted = try await insertTasks(
            plan.toInsert, keys: plan.keys, jobSeq: jobSeq, firstPosition: 0, settings: JobSettings(job), now: now,
            on: connection)
        return SubmittedJob(
            id: JobID(trusted: jobID), taskIDs: plan.ids(inserted: inserted), createdAt: now,
            duplicates: plan.duplicates)
    }

    private func append(_ tasks: [NewTask], to id: JobID, now: Int64, on connection: PostgresConnection)
        async throws -> SubmittedJob
    {
        guard
            let (jobSeq, open, taskCount, createdAt, settings) = try await connection.query(
                PostgresQuery(
                    unsafeSQL:
                        "SELECT seq, open, task_count, created_at, \(JobSettings.columns) FROM jobs WHERE id = $1 FOR UPDATE",
                    binds: binds(id.rawValue)),
                logger: logger
            ).first({
                (try $0.int64(0), try $0.bool(1), try $0.int(2), try $0.int64(3), try JobSettings.read($0, from: 4))
            })
        else { throw StoreError(.notFound, "job \(id) does not exist") }
        guard open else { throw StoreError(.conflict, "job \(id) is sealed or canceled") }
        // With unique_urls, a task already in the job (by method, URL and body) is not created again.
        var existing: [String: TaskID] = [:]
        if settings.uniqueURLs {
            let keys = DuplicatePlan.keys(of: tasks)
            for (key, task) in try await connection.query(
                "SELECT dedupe_key, id FROM tasks WHERE job_seq = \(jobSeq) AND dedupe_key = ANY(\(keys)::text[])",
                logger: logger
            ).map({ (try $0.string(0), TaskID(trusted: try $0.string(1))) }) {
                existing[key] = task
            }
        }
        let plan = DuplicatePlan(tasks, unique: settings.uniqueURLs, existing: existing)
        // Tasks appended follow the job's settings: held while it is paused, its robots_txt, its limits.
        let inserted = try await insertTasks(
            plan.toInsert, keys: plan.keys, jobSeq: jobSeq, firstPosition: taskCount, settings: settings, now: now,
            on: connection)
        let added = plan.toInsert.count
        try await connection.query(
            "UPDATE jobs SET task_count = task_count + \(added), n_queued = n_queued + \(added) WHERE seq = \(jobSeq)",
            logger: logger)
        return SubmittedJob(
            id: id, taskIDs: plan.ids(inserted: inserted), createdAt: createdAt, duplicates: plan.duplicates)
    }

    /// Inserts `tasks` in one statement (`unnest` of one array per column), held when their job is
    /// paused; answers their ids.
    private func insertTasks(
        _ tasks: [NewTask], keys: [String?], jobSeq: Int64, firstPosition: Int, settings: JobSettings, now: Int64,
        on connection: PostgresConnection
    ) async throws -> [TaskID] {
        guard !tasks.isEmpty else { return [] }
        let ids = tasks.map { _ in nextID(millis: now) }
        // Arrays cannot carry NULL here: a body is "=" and its base64 ("" for none), a missing
        // retry setting is -1.
        let bodies = tasks.map { task in task.request.body.map { "=" + Data($0).base64EncodedString() } ?? "" }
        let due = tasks.map { $0.notBefore ?? now }
        try await connection.query(
            """
            INSERT INTO tasks (id, job_seq, position, url, host, method, headers, body, timeout_ms, priority,
                               max_attempts, retry_base_ms, retry_max_ms, next_attempt_at, created_at, updated_at,
                               obey_robots, held, job_host_concurrency, job_host_interval_ms, decode_content,
                               dedupe_key)
            SELECT u.id, \(jobSeq), \(firstPosition) + u.ord - 1, u.url, u.host, u.method, u.headers,
                   CASE WHEN u.body = '' THEN NULL ELSE decode(substr(u.body, 2), 'base64') END,
                   u.timeout_ms, u.priority, u.max_attempts, nullif(u.retry_base_ms, -1),
                   nullif(u.retry_max_ms, -1), u.due, \(now), \(now), \(settings.robots == .obey), \(settings.held),
                   \(settings.hostLimits?.concurrency), \(settings.hostLimits?.intervalMillis), u.decode,
                   nullif(u.dedupe, '')
            FROM unnest(\(ids)::text[], \(tasks.map(\.request.url))::text[], \(tasks.map(\.host))::text[],
                        \(tasks.map(\.request.method))::text[],
                        \(tasks.map { HeaderCoding.encode($0.request.headers) })::text[], \(bodies)::text[],
                        \(tasks.map(\.timeoutMillis))::int[], \(tasks.map(\.priority))::int[],
                        \(tasks.map(\.maxAttempts))::int[], \(tasks.map { $0.retryBaseMillis ?? -1 })::int[],
                        \(tasks.map { $0.retryMaxMillis ?? -1 })::int[], \(due)::bigint[],
                        \(tasks.map(\.decodeContent))::boolean[], \(keys.map { $0 ?? "" })::text[])
                 WITH ORDINALITY AS u(id, url, host, method, headers, body, timeout_ms, priority, max_attempts,
                                      retry_base_ms, retry_max_ms, due, decode, dedupe, ord)
            ORDER BY u.ord
            """, logger: logger)
        return ids.map(TaskID.init(trusted:))
    }

    static func jobSeq(_ id: JobID, on connection: PostgresConnection, logger: Logger) async throws -> Int64? {
        try await connection.query("SELECT seq FROM jobs WHERE id = \(id.rawValue)", logger: logger)
            .first({ try $0.int64(0) })
    }

    /// Clears `open` and stamps `finished_at` when no task is left to run.
    static func close(jobSeq: Int64, now: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            UPDATE jobs SET open = false,
                finished_at = CASE WHEN n_queued + n_running = 0 THEN coalesce(finished_at, \(now)) END
            WHERE seq = \(jobSeq) AND open
            """, logger: logger)
    }
}
