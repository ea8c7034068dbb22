import Logging
import PostgresNIO
import Store

/// Fills in the webhook deliveries the triggers created in the current transaction, by the model's
/// `OutboxRule`, before the transaction commits: one `UPDATE` for all of them.
enum PostgresOutbox {
    static func render(on connection: PostgresConnection, store: PostgresStore) async throws {
        let logger = store.logger
        let unrendered = try await connection.query(PostgresQuery(unsafeSQL: OutboxRule.select), logger: logger)
            .map(OutboxRule.read)
        guard !unrendered.isEmpty else { return }
        var (seqs, ids, payloads): ([Int64], [String], [String]) = ([], [], [])
        for delivery in unrendered {
            var task: TaskRecord?
            var job: JobRecord?
            switch delivery.need {
            case .task(let seq):
                task = try await connection.query(
                    PostgresQuery(unsafeSQL: "\(TaskRow.select) WHERE t.seq = $1", binds: binds(seq)), logger: logger
                ).first(TaskRow.read)?.record
            case .job(let seq): job = try await PostgresJobRow.job(seq: seq, on: connection, logger: logger)
            }
            seqs.append(delivery.seq)
            ids.append(store.nextDeliveryID(millis: delivery.createdAt))
            payloads.append(try OutboxRule.payload(for: delivery, task: task, job: job, engine: .postgres))
        }
        try await connection.query(
            """
            UPDATE deliveries d SET id = u.id, payload = u.payload
            FROM unnest(\(seqs)::bigint[], \(ids)::text[], \(payloads)::text[]) AS u(seq, id, payload)
            WHERE d.seq = u.seq
            """, logger: logger)
    }
}
