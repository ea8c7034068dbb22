import Logging
import PostgresNIO
import Store

/// Renders the webhook deliveries the triggers created in the current transaction (payload `''`),
/// with `Representation`, the same function the API answers with, and gives each a time-sortable
/// `DeliveryID`, before the transaction commits: no delivery is ever committed unrendered. The
/// SQLite engine's `Outbox` does the same.
enum PostgresOutbox {
    static func render(on connection: PostgresConnection, store: PostgresStore) async throws {
        let logger = store.logger
        let unrendered = try await connection.query(
            "SELECT seq, event_type, task_seq, job_seq, created_at FROM deliveries WHERE payload = '' ORDER BY seq",
            logger: logger
        ).map { row in
            (
                seq: try row.int64(0), type: try row.string(1), task: try row.optionalInt64(2), job: try row.int64(3),
                createdAt: try row.int64(4)
            )
        }
        guard !unrendered.isEmpty else { return }
        var seqs: [Int64] = []
        var ids: [String] = []
        var payloads: [String] = []
        for delivery in unrendered {
            let payload: String
            switch (EventType(rawValue: delivery.type), delivery.task) {
            case (.taskFinished?, let task?):
                guard
                    let record = try await connection.query(
                        PostgresQuery(unsafeSQL: "\(TaskRow.select) WHERE t.seq = $1", binds: binds(task)),
                        logger: logger
                    ).first(TaskRow.read)
                else { throw StoreError(.postgres, "a task.finished delivery for a task that does not exist") }
                payload = Representation.taskFinished(record.record).text
            case (.jobFinished?, _):
                guard let job = try await PostgresJobRow.job(seq: delivery.job, on: connection, logger: logger) else {
                    throw StoreError(.postgres, "a job.finished delivery for a job that does not exist")
                }
                payload = Representation.jobFinished(job).text
            default:
                throw StoreError(.postgres, "a delivery of unknown type \(delivery.type)")
            }
            seqs.append(delivery.seq)
            ids.append(store.nextDeliveryID(millis: delivery.createdAt))
            payloads.append(payload)
        }
        try await connection.query(
            """
            UPDATE deliveries d SET id = u.id, payload = u.payload
            FROM unnest(\(seqs)::bigint[], \(ids)::text[], \(payloads)::text[]) AS u(seq, id, payload)
            WHERE d.seq = u.seq
            """, logger: logger)
    }
}
