import Foundation
import PostgresNIO
import Store

// Changes people ask for: cancel, rerun, delete.

extension PostgresStore {
    public func cancel(job id: JobID, now: Int64) async throws -> Cancellation? {
        try await transaction { connection in
            guard let jobSeq = try await Self.jobSeq(id, on: connection, logger: logger) else { return nil }
            let changed = try await connection.query(
                """
                WITH targets AS (
                    SELECT seq, state FROM tasks WHERE job_seq = \(jobSeq) AND state IN ('queued', 'running')
                    FOR UPDATE)
                UPDATE tasks t SET state = 'canceled', finished_at = \(now), updated_at = \(now),
                    lease_expires_at = NULL, node_id = NULL
                FROM targets WHERE t.seq = targets.seq
                RETURNING t.seq, targets.state
                """, logger: logger
            ).map { (seq: try $0.int64(0), state: try $0.string(1)) }
            // A canceled open job takes no more tasks, and so can finish.
            try await Self.close(jobSeq: jobSeq, now: now, on: connection, logger: logger)
            try await PostgresOutbox.render(on: connection, store: self)
            return Cancellation(
                canceled: changed.count, running: changed.filter { $0.state == TaskState.running.rawValue }.map(\.seq))
        }
    }

    public func cancel(task id: TaskID, now: Int64) async throws -> Cancellation? {
        try await transaction { connection in
            guard
                let (seq, state) = try await connection.query(
                    "SELECT seq, state FROM tasks WHERE id = \(id.rawValue) FOR UPDATE", logger: logger
                ).first({ (try $0.int64(0), try $0.string(1)) })
            else { return nil }
            let canceled = try await connection.query(
                """
                UPDATE tasks SET state = 'canceled', finished_at = \(now), updated_at = \(now),
                    lease_expires_at = NULL, node_id = NULL
                WHERE seq = \(seq) AND state IN ('queued', 'running') RETURNING 1
                """, logger: logger
            ).count()
            try await PostgresOutbox.render(on: connection, store: self)
            return Cancellation(canceled: canceled, running: state == TaskState.running.rawValue ? [seq] : [])
        }
    }

    public func rerun(task id: TaskID, now: Int64) async throws -> Bool? {
        try await transaction { connection in
            guard
                let state = try await connection.query(
                    "SELECT state FROM tasks WHERE id = \(id.rawValue) FOR UPDATE", logger: logger
                ).first({ try $0.string(0) })
            else { return nil }
            guard state == TaskState.failed.rawValue || state == TaskState.canceled.rawValue else { return false }
            // The failed run's last attempt lives on the row that is about to be reset: log it.
            try await connection.query(
                """
                INSERT INTO task_attempts
                    (task_seq, attempt, started_at, finished_at, status_code, duration_ms, error, error_message)
                SELECT seq, attempts, started_at, finished_at, status_code, duration_ms, error, error_message
                FROM tasks WHERE id = \(id.rawValue) AND state = 'failed' AND attempts > 0 AND finished_at IS NOT NULL
                ON CONFLICT DO NOTHING
                """, logger: logger)
            try await connection.query(
                """
                UPDATE tasks SET state = 'queued', attempts = 0, next_attempt_at = \(now), updated_at = \(now),
                    finished_at = NULL, failure_reason = NULL
                WHERE id = \(id.rawValue)
                """, logger: logger)
            try await Self.notifyWork(connection, logger: logger)
            return true
        }
    }

    public func delete(job id: JobID) async throws -> JobDeletion {
        try await transaction { connection in
            guard
                let (seq, finished) = try await connection.query(
                    "SELECT seq, finished_at IS NOT NULL FROM jobs WHERE id = \(id.rawValue) FOR UPDATE",
                    logger: logger
                ).first({ (try $0.int64(0), try $0.bool(1)) })
            else { return .noJob }
            guard finished else { return .pending }
            try await connection.query("DELETE FROM jobs WHERE seq = \(seq)", logger: logger)
            return .deleted
        }
    }

    public func deleteExpired(finishedBefore cutoff: Int64, limit: Int) async throws -> Int {
        try await transaction { connection in
            let expired = try await connection.query(
                """
                SELECT seq FROM jobs j
                WHERE finished_at IS NOT NULL AND finished_at < \(cutoff)
                  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.job_seq = j.seq AND d.state = 'pending')
                ORDER BY finished_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """, logger: logger
            ).map { try $0.int64(0) }
            guard !expired.isEmpty else { return 0 }
            let tasks = try await connection.query(
                """
                DELETE FROM tasks WHERE seq IN (
                    SELECT seq FROM tasks WHERE job_seq = ANY(\(expired)::bigint[]) LIMIT \(limit))
                RETURNING 1
                """, logger: logger
            ).count()
            let emptied = try await connection.query(
                """
                DELETE FROM jobs WHERE seq = ANY(\(expired)::bigint[])
                  AND NOT EXISTS (SELECT 1 FROM tasks WHERE job_seq = jobs.seq)
                RETURNING 1
                """, logger: logger
            ).count()
            return tasks + emptied
        }
    }
}
