import Foundation
import PostgresNIO
import Store

// The webhook outbox: deliveries claimed with SKIP LOCKED, so each is sent by one node at a time.

extension PostgresStore {
    public func webhookSecret(orGenerate generate: @escaping @Sendable () -> String) async throws -> String {
        let candidate = generate()
        return try await transaction(durable: true) { [self] connection in
            // The first node to store one wins; every node signs with the same secret.
            try await connection.query(
                """
                INSERT INTO settings (key, value) VALUES ('webhook_secret', \(candidate)) ON CONFLICT (key) DO NOTHING
                """, logger: logger)
            guard
                let kept = try await connection.query(
                    "SELECT value FROM settings WHERE key = 'webhook_secret'", logger: logger
                ).first({ try $0.string(0) })
            else { throw StoreError(.postgres, "the webhook secret was not stored") }
            return kept
        }
    }

    public func claimDeliveries(limit: Int, now: Int64, leaseMillis: Int) async throws -> [DeliveryWork] {
        guard limit > 0 else { return [] }
        return try await transaction { [self] connection in
            try await connection.query(
                """
                WITH due AS (
                    SELECT seq FROM deliveries WHERE state = 'pending' AND next_attempt_at <= \(now)
                    ORDER BY next_attempt_at, seq LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                UPDATE deliveries d SET attempts = d.attempts + 1, next_attempt_at = \(now) + \(leaseMillis),
                    updated_at = \(now), node_id = \(node.id)
                FROM due WHERE d.seq = due.seq
                RETURNING d.seq, d.id, d.url, d.payload, d.attempts, d.job_seq,
                    (SELECT callback_secret FROM jobs j WHERE j.seq = d.job_seq)
                """, logger: logger
            ).map { row in
                DeliveryWork(
                    seq: try row.int64(0), id: DeliveryID(trusted: try row.string(1)), url: try row.string(2),
                    payload: try row.string(3), attempt: try row.int(4), jobSeq: try row.int64(5),
                    secret: try row.optionalString(6))
            }
            .sorted { $0.seq < $1.seq }
        }
    }

    public func recordDeliveries(_ results: [DeliveryResult]) async throws {
        guard !results.isEmpty else { return }
        try await transaction { [self] connection in
            for result in results {
                let transition = DeliveryTransition(result)
                let (state, next, delivered) = (transition.state, transition.nextAttemptAt, transition.deliveredAt)
                let changed = try await connection.query(
                    """
                    UPDATE deliveries SET state = \(state.rawValue), next_attempt_at = \(next), delivered_at = \(delivered),
                        updated_at = \(result.at), last_status = \(result.status), last_error = \(result.error),
                        node_id = NULL
                    WHERE seq = \(result.seq) AND attempts = \(result.attempt) AND state = 'pending'
                    RETURNING job_seq, url
                    """, logger: logger
                ).first({ (job: try $0.int64(0), url: try $0.string(1)) })
                if let changed, result.next == .gone {
                    // Fails what is pending now; the mark on the job fails what is created later.
                    try await connection.query(
                        """
                        UPDATE deliveries SET state = 'failed', updated_at = \(result.at),
                            last_error = 'the receiver answered 410 Gone to an earlier delivery'
                        WHERE state = 'pending' AND job_seq = \(changed.job) AND url = \(changed.url)
                        """, logger: logger)
                    try await connection.query(
                        "UPDATE jobs SET callback_gone_at = \(result.at) WHERE seq = \(changed.job)", logger: logger)
                }
            }
        }
    }

    public func releaseDeliveries(_ leases: [(seq: Int64, attempt: Int)], now: Int64) async throws {
        guard !leases.isEmpty else { return }
        try await transaction { [self] connection in
            try await connection.query(
                """
                UPDATE deliveries d SET attempts = d.attempts - 1, next_attempt_at = \(now), node_id = NULL
                FROM unnest(\(leases.map(\.seq))::bigint[], \(leases.map(\.attempt))::int[]) AS u(seq, attempt)
                WHERE d.seq = u.seq AND d.attempts = u.attempt AND d.state = 'pending'
                """, logger: logger)
        }
    }

    public func redeliver(_ id: DeliveryID, now: Int64) async throws -> DeliveryRecord? {
        try await transaction { [self] connection in
            guard
                let jobSeq = try await connection.query(
                    """
                    UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = \(now), updated_at = \(now),
                        delivered_at = NULL, node_id = NULL
                    WHERE id = \(id.rawValue) RETURNING job_seq
                    """, logger: logger
                ).first({ try $0.int64(0) })
            else { return nil }
            // Sending by hand says the receiver is back: the job's later events are sent again.
            try await connection.query("UPDATE jobs SET callback_gone_at = NULL WHERE seq = \(jobSeq)", logger: logger)
            return try await connection.query(
                PostgresQuery(unsafeSQL: "\(DeliveryRow.select) WHERE d.id = $1", binds: binds(id.rawValue)),
                logger: logger
            ).first(DeliveryRow.read)?.record
        }
    }

    public func pendingDeliveries() async throws -> Int {
        try await read { [self] connection in
            try await connection.query(
                "SELECT count(*) FROM deliveries WHERE state = 'pending'", logger: logger
            ).first({ try $0.int(0) }) ?? 0
        }
    }

    public func deliveries(of id: JobID, cursor: String?, limit: Int) async throws -> DeliveryPage? {
        let after = try cursor.map(Cursor.decode) ?? 0
        return try await read { [self] connection in
            guard let jobSeq = try await Self.jobSeq(id, on: connection, logger: logger) else { return nil }
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL:
                        "\(DeliveryRow.select) WHERE d.job_seq = $1 AND d.seq > $2 ORDER BY d.seq LIMIT $3",
                    binds: binds(jobSeq, after, limit + 1)), logger: logger
            ).map(DeliveryRow.read)
            let page = rows.prefix(limit)
            let next = rows.count > limit ? page.last.map { Cursor.encode($0.seq) } : nil
            return DeliveryPage(deliveries: page.map(\.record), nextCursor: next)
        }
    }
}
