import JSON
import Store

extension SQLiteStore {
    /// Deletes a finished job now, with its tasks, bodies, attempts and deliveries, in one transaction.
    public func delete(job id: JobID) async throws -> JobDeletion {
        try await writer.perform { writer in
            try writer.db.transaction {
                guard
                    let (seq, finished) = try writer.db.queryOne(
                        "SELECT seq, finished_at IS NOT NULL FROM jobs WHERE id = ?", [.text(id.rawValue)],
                        { ($0.int64(0), $0.int(1) == 1) })
                else { return .noJob }
                guard finished else { return .pending }
                try writer.db.run("DELETE FROM tasks WHERE job_seq = ?", [.integer(seq)])
                try writer.db.run("DELETE FROM jobs WHERE seq = ?", [.integer(seq)])
                return .deleted
            }
        }
    }

    /// One small step of the retention sweep, in one short transaction: deletes up to `limit` tasks
    /// (with their bodies, attempts and deliveries) of jobs finished before `cutoff`, and the jobs
    /// left without tasks. A job with a webhook delivery still pending is kept until it is sent or
    /// fails. Answers the rows deleted: fewer than `limit` means nothing expired is left.
    public func deleteExpired(finishedBefore cutoff: Int64, limit: Int) async throws -> Int {
        try await writer.perform { writer in
            try writer.db.transaction {
                let expired = try writer.db.query(
                    """
                    SELECT seq FROM jobs j
                    WHERE finished_at IS NOT NULL AND finished_at < ?1
                      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.job_seq = j.seq AND d.state = 'pending')
                    ORDER BY finished_at LIMIT ?2
                    """,
                    [.integer(cutoff), .int(limit)]
                ) { $0.int64(0) }
                guard !expired.isEmpty else { return 0 }
                let jobs = SQLValue.text(JSONWriter.text(ofIntegers: expired))
                let tasks = try writer.db.run(
                    """
                    DELETE FROM tasks WHERE seq IN (
                        SELECT t.seq FROM json_each(?1) e JOIN tasks t ON t.job_seq = e.value LIMIT ?2)
                    """,
                    [jobs, .int(limit)])
                let emptied = try writer.db.run(
                    """
                    DELETE FROM jobs WHERE seq IN (SELECT value FROM json_each(?1))
                      AND NOT EXISTS (SELECT 1 FROM tasks WHERE job_seq = jobs.seq)
                    """,
                    [jobs])
                return tasks + emptied
            }
        }
    }

    /// Pages the database holds free for later inserts, and pages in all (`PRAGMA freelist_count`,
    /// `page_count`).
    public func pages() throws -> (free: Int, total: Int) {
        try readers.withReader { db in
            let free = try db.queryOne("PRAGMA freelist_count") { $0.int(0) } ?? 0
            let total = try db.queryOne("PRAGMA page_count") { $0.int(0) } ?? 0
            return (free, total)
        }
    }
}
