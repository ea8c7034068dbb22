import PostgresNIO
import Store

// Pausing jobs and hosts (see migrations/postgres/0005_pause.sql).

extension PostgresStore {
    public func pause(job id: JobID, now: Int64) async throws -> JobRecord? {
        try await setPaused(true, job: id)
    }

    public func resume(job id: JobID, now: Int64) async throws -> JobRecord? {
        try await setPaused(false, job: id)
    }

    /// Marks the job paused or not and its queued tasks held or not, under the claim lock (no claim
    /// takes a task of it meanwhile). The tasks first, then the job's row, then the tasks again:
    /// tasks queued while the job's row was not yet taken are caught by the second pass, and those
    /// queued after it see the job's new state in the schema's trigger. Row locks are taken tasks
    /// before job, as every other writer takes them.
    private func setPaused(_ paused: Bool, job id: JobID) async throws -> JobRecord? {
        try await transaction(durable: true) { [self] connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.claimLockKey))", logger: logger)
            guard let job = try await PostgresJobRow.job(id: id, on: connection, logger: logger) else { return nil }
            try PauseRule.check(job)
            guard PauseRule.changes(job, toPaused: paused),
                let jobSeq = try await Self.jobSeq(id, on: connection, logger: logger)
            else { return job }
            let holdTasks: @Sendable () async throws -> Void = { [logger] in
                try await connection.query(
                    "UPDATE tasks SET held = \(paused) WHERE job_seq = \(jobSeq) AND state = 'queued' AND held <> \(paused)",
                    logger: logger)
            }
            try await holdTasks()
            try await connection.query("UPDATE jobs SET paused = \(paused) WHERE seq = \(jobSeq)", logger: logger)
            try await holdTasks()
            if !paused { try await Self.notifyWork(connection, logger: logger) }
            return try await PostgresJobRow.job(seq: jobSeq, on: connection, logger: logger)
        }
    }

    public func pause(host: String, until: Int64, now: Int64) async throws {
        try await transaction(durable: true) { [self] connection in
            try await connection.query(
                """
                INSERT INTO host_pauses (host, until, kind) VALUES (\(host), \(until), \(PauseRule.manualKind))
                ON CONFLICT (host, kind) DO UPDATE SET until = excluded.until
                """, logger: logger)
        }
    }

    public func resume(host: String) async throws {
        try await transaction(durable: true) { [self] connection in
            try await connection.query(
                "DELETE FROM host_pauses WHERE host = \(host) AND kind = \(PauseRule.manualKind)", logger: logger)
            try await Self.notifyWork(connection, logger: logger)
        }
    }

    public func hostPauses(now: Int64) async throws -> [String: Int64] {
        try await read { [self] connection in
            var pauses: [String: Int64] = [:]
            for (host, until) in try await connection.query(
                "SELECT host, max(until) FROM host_pauses WHERE until > \(now) GROUP BY host", logger: logger
            ).map({ (try $0.string(0), try $0.int64(1)) }) {
                pauses[host] = until
            }
            return pauses
        }
    }
}
