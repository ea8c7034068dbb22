import JSON
import Store

/// Fills in the webhook deliveries that the triggers of `migrations/0005_rendered_payloads.sql`
/// created in the current write transaction. A trigger creates each delivery in the same
/// statement as the state change behind it, so none can be forgotten; this renders its payload
/// with `Representation` (the same function the API answers with) and gives it a time-sortable
/// `DeliveryID`, before the transaction commits. No delivery is ever committed unrendered.
enum Outbox {
    static func renderNewDeliveries(in db: Database, ids: inout ULID) throws {
        let unrendered = try db.query(
            "SELECT seq, event_type, task_seq, job_seq, created_at FROM deliveries WHERE payload = '' ORDER BY seq"
        ) { row in
            (
                seq: row.int64(0), type: row.string(1), task: row.isNull(2) ? nil : row.int64(2), job: row.int64(3),
                createdAt: row.int64(4)
            )
        }
        for delivery in unrendered {
            let payload: JSONValue
            switch (EventType(rawValue: delivery.type), delivery.task) {
            case (.taskFinished?, let task?):
                guard let record = try db.queryOne("\(TaskRow.select) WHERE t.seq = ?", [.integer(task)], TaskRow.read)
                else { throw StoreError(.sqlite, "a task.finished delivery for a task that does not exist") }
                payload = Representation.taskFinished(record.record)
            case (.jobFinished?, _):
                guard let job = try JobRow.read(seq: delivery.job, in: db) else {
                    throw StoreError(.sqlite, "a job.finished delivery for a job that does not exist")
                }
                payload = Representation.jobFinished(job)
            default:
                throw StoreError(.sqlite, "a delivery of unknown type \(delivery.type)")
            }
            try db.run(
                "UPDATE deliveries SET id = ?2, payload = ?3 WHERE seq = ?1",
                [
                    .integer(delivery.seq), .text(DeliveryID.next(millis: delivery.createdAt, using: &ids).rawValue),
                    .text(payload.text),
                ])
        }
    }
}
