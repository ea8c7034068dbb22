import Store

// Pausing jobs and hosts (see migrations/0009_pause.sql).

extension SQLiteStore {
    public func pause(job id: JobID, now: Int64) async throws -> JobRecord? {
        try await setPaused(true, job: id)
    }

    public func resume(job id: JobID, now: Int64) async throws -> JobRecord? {
        try await setPaused(false, job: id)
    }

    /// Marks the job paused or not, and its queued tasks held or not, in one transaction (a task
    /// queued later is held by the schema's trigger).
    private func setPaused(_ paused: Bool, job id: JobID) async throws -> JobRecord? {
        try await writer.perform { writer in
            try writer.db.transaction {
                guard let jobSeq = try writer.db.jobSeq(id), let job = try JobRow.read(seq: jobSeq, in: writer.db)
                else { return nil }
                try PauseRule.check(job)
                guard PauseRule.changes(job, toPaused: paused) else { return job }
                try writer.db.run(
                    "UPDATE jobs SET paused = ?2 WHERE seq = ?1", [.integer(jobSeq), .int(paused ? 1 : 0)])
                try writer.db.run(
                    "UPDATE tasks SET held = ?2 WHERE job_seq = ?1 AND state = 'queued' AND held <> ?2",
                    [.integer(jobSeq), .int(paused ? 1 : 0)])
                return try JobRow.read(seq: jobSeq, in: writer.db)
            }
        }
    }

    public func pause(host: String, until: Int64, now: Int64) async throws {
        try await writer.perform { writer in
            try writer.db.transaction {
                try writer.db.run("DELETE FROM host_pauses WHERE until <= ?", [.integer(now)])
                try writer.db.run(
                    """
                    INSERT INTO host_pauses (host, until, kind) VALUES (?1, ?2, ?3)
                    ON CONFLICT (host, kind) DO UPDATE SET until = excluded.until
                    """,
                    [.text(host), .integer(until), .text(PauseRule.manualKind)])
            }
        }
    }

    public func resume(host: String) async throws {
        try await writer.perform { writer in
            try writer.db.run(
                "DELETE FROM host_pauses WHERE host = ? AND kind = ?", [.text(host), .text(PauseRule.manualKind)])
        }
    }

    public func hostPauses(now: Int64) async throws -> [String: Int64] {
        try readers.withReader { db in
            var pauses: [String: Int64] = [:]
            for (host, until) in try db.query(
                "SELECT host, max(until) FROM host_pauses WHERE until > ? GROUP BY host", [.integer(now)],
                { ($0.string(0), $0.int64(1)) })
            {
                pauses[host] = until
            }
            return pauses
        }
    }
}
