import Foundation
import JSON
import Store

extension SQLiteStore {
    /// The service's webhook secret: the one kept in the database, or `generate()`'s, stored now.
    public func webhookSecret(orGenerate generate: @escaping @Sendable () -> String) async throws -> String {
        try await writer.perform { writer in
            try writer.db.transaction {
                if let kept = try writer.db.queryOne(
                    "SELECT value FROM settings WHERE key = 'webhook_secret'", [], { $0.string(0) })
                {
                    return kept
                }
                let secret = generate()
                try writer.db.run("INSERT INTO settings (key, value) VALUES ('webhook_secret', ?)", [.text(secret)])
                return secret
            }
        }
    }

    /// Hands out up to `limit` due deliveries, counting the attempt and leasing each until
    /// `now + leaseMillis` (a crash mid-send makes it due again then).
    public func claimDeliveries(limit: Int, now: Int64, leaseMillis: Int) async throws -> [DeliveryWork] {
        guard limit > 0 else { return [] }
        return try await writer.perform { writer in
            try writer.db.transaction {
                let claimed = try writer.db.query(
                    """
                    UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?1 + ?2, updated_at = ?1
                    WHERE seq IN (SELECT seq FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?1
                                  ORDER BY next_attempt_at, seq LIMIT ?3)
                    RETURNING seq, id, url, payload, attempts, job_seq
                    """,
                    [.integer(now), .int(leaseMillis), .int(limit)]
                ) { row in
                    (
                        seq: row.int64(0), id: DeliveryID(trusted: row.string(1)), url: row.string(2),
                        payload: row.string(3),
                        attempt: row.int(4), jobSeq: row.int64(5)
                    )
                }
                guard !claimed.isEmpty else { return [] }
                let jobs = JSONWriter.text(ofIntegers: Set(claimed.map(\.jobSeq)))
                let secrets = Dictionary(
                    uniqueKeysWithValues: try writer.db.query(
                        """
                        SELECT seq, callback_secret FROM jobs
                        WHERE seq IN (SELECT value FROM json_each(?)) AND callback_secret IS NOT NULL
                        """,
                        [.text(jobs)]
                    ) { ($0.int64(0), $0.string(1)) })
                return claimed.sorted { $0.seq < $1.seq }.map {
                    DeliveryWork(
                        seq: $0.seq, id: $0.id, url: $0.url, payload: $0.payload, attempt: $0.attempt,
                        jobSeq: $0.jobSeq, secret: secrets[$0.jobSeq])
                }
            }
        }
    }

    /// Records delivery attempts in one transaction; a result for an attempt that is no longer
    /// current (the delivery was redelivered meanwhile) is ignored.
    public func recordDeliveries(_ results: [DeliveryResult]) async throws {
        guard !results.isEmpty else { return }
        try await writer.perform { writer in
            try writer.db.transaction {
                for result in results {
                    let transition = DeliveryTransition(result)
                    let (state, next, delivered) = (transition.state, transition.nextAttemptAt, transition.deliveredAt)
                    let changed = try writer.db.run(
                        """
                        UPDATE deliveries SET state = ?3, next_attempt_at = ?4, delivered_at = ?5, updated_at = ?6,
                            last_status = ?7, last_error = ?8
                        WHERE seq = ?1 AND attempts = ?2 AND state = 'pending'
                        """,
                        [
                            .integer(result.seq), .int(result.attempt), .text(state.rawValue), .integer(next),
                            delivered.map { .integer($0) } ?? .null, .integer(result.at), .optional(result.status),
                            .optional(result.error),
                        ])
                    if changed == 1, result.next == .gone {
                        // Fails what is pending now; the mark on the job fails what is created later
                        // (trigger `deliveries_to_a_gone_receiver`).
                        try writer.db.run(
                            """
                            UPDATE deliveries SET state = 'failed', updated_at = ?2,
                                last_error = 'the receiver answered 410 Gone to an earlier delivery'
                            WHERE state = 'pending' AND (job_seq, url) = (SELECT job_seq, url FROM deliveries WHERE seq = ?1)
                            """,
                            [.integer(result.seq), .integer(result.at)])
                        try writer.db.run(
                            """
                            UPDATE jobs SET callback_gone_at = ?2
                            WHERE seq = (SELECT job_seq FROM deliveries WHERE seq = ?1)
                            """,
                            [.integer(result.seq), .integer(result.at)])
                    }
                }
            }
        }
    }

    /// Makes leased deliveries due at once again (the dispatcher stopped before they ended).
    public func releaseDeliveries(_ leases: [(seq: Int64, attempt: Int)], now: Int64) async throws {
        guard !leases.isEmpty else { return }
        let pairs = leases.map { [$0.seq, Int64($0.attempt)] }
        try await writer.perform { writer in
            try writer.db.transaction {
                for pair in pairs {
                    try writer.db.run(
                        """
                        UPDATE deliveries SET attempts = attempts - 1, next_attempt_at = ?3
                        WHERE seq = ?1 AND attempts = ?2 AND state = 'pending'
                        """,
                        [.integer(pair[0]), .integer(pair[1]), .integer(now)])
                }
            }
        }
    }

    /// Sends a delivery again from scratch, whatever its state. Nil when there is none.
    public func redeliver(_ id: DeliveryID, now: Int64) async throws -> DeliveryRecord? {
        try await writer.perform { writer in
            try writer.db.transaction {
                let changed = try writer.db.run(
                    """
                    UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?2, updated_at = ?2,
                        delivered_at = NULL
                    WHERE id = ?1
                    """,
                    [.text(id.rawValue), .integer(now)])
                guard changed == 1 else { return nil }
                // Sending by hand says the receiver is back: the job's later events are sent again.
                try writer.db.run(
                    "UPDATE jobs SET callback_gone_at = NULL WHERE seq = (SELECT job_seq FROM deliveries WHERE id = ?)",
                    [.text(id.rawValue)])
                return try writer.db.queryOne(
                    "\(DeliveryRow.select) WHERE d.id = ?", [.text(id.rawValue)], DeliveryRow.read)?
                    .record
            }
        }
    }

    /// Deliveries waiting for their first or next attempt, across jobs (a scan of the pending
    /// index, which holds only those).
    public func pendingDeliveries() throws -> Int {
        try readers.withReader { db in
            try db.queryOne("SELECT count(*) FROM deliveries WHERE state = 'pending'") { $0.int(0) } ?? 0
        }
    }

    /// A page of a job's deliveries, oldest first. Nil when there is no such job.
    public func deliveries(of id: JobID, cursor: String?, limit: Int) throws -> DeliveryPage? {
        let after = try cursor.map(Cursor.decode) ?? 0
        return try readers.withReader { db in
            guard
                let jobSeq = try db.jobSeq(id)
            else { return nil }
            let rows = try db.query(
                "\(DeliveryRow.select) WHERE d.job_seq = ?1 AND d.seq > ?2 ORDER BY d.seq LIMIT ?3",
                [.integer(jobSeq), .integer(after), .int(limit + 1)], DeliveryRow.read)
            let page = rows.prefix(limit)
            let next = rows.count > limit ? page.last.map { Cursor.encode($0.seq) } : nil
            return DeliveryPage(deliveries: page.map(\.record), nextCursor: next)
        }
    }
}
