import Store

/// Fills in the webhook deliveries the triggers created in the current write transaction, by the
/// model's `OutboxRule`, before the transaction commits.
enum Outbox {
    static func renderNewDeliveries(in db: Database, ids: inout ULID) throws {
        for delivery in try db.query(OutboxRule.select, [], OutboxRule.read) {
            var task: TaskRecord?
            var job: JobRecord?
            switch delivery.need {
            case .task(let seq):
                task = try db.queryOne("\(TaskRow.select) WHERE t.seq = ?", [.integer(seq)]) {
                    try TaskRow.read($0).record
                }
            case .job(let seq): job = try JobRow.read(seq: seq, in: db)
            }
            let payload = try OutboxRule.payload(for: delivery, task: task, job: job, engine: .sqlite)
            try db.run(
                "UPDATE deliveries SET id = ?2, payload = ?3 WHERE seq = ?1",
                [
                    .integer(delivery.seq), .text(DeliveryID.next(millis: delivery.createdAt, using: &ids).rawValue),
                    .text(payload),
                ])
        }
    }
}
