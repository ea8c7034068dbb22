import JSON

/// The webhook outbox's rule, for both engines. A trigger creates each delivery (payload `''`) in
/// the same statement as the state change behind it, so none can be forgotten; before the
/// transaction commits, the engine reads the unrendered ones (`select`, `read`), loads the record
/// each names (`Need`), and stores the payload `payload(for:task:job:)` renders with
/// `Representation` (the same function the API answers with), under a time-sortable `DeliveryID`.
/// No delivery is ever committed unrendered.
package enum OutboxRule {
    /// A delivery created by a trigger and not rendered yet.
    package struct Unrendered: Sendable {
        package let seq: Int64
        package let type: EventType?
        package let typeName: String
        package let taskSeq: Int64?
        package let jobSeq: Int64
        package let createdAt: Int64

        /// The record its payload is rendered from.
        package var need: Need {
            switch (type, taskSeq) {
            case (.taskFinished?, let task?): .task(seq: task)
            default: .job(seq: jobSeq)
            }
        }
    }

    /// Which record a delivery's payload is rendered from.
    package enum Need: Equatable {
        case task(seq: Int64)
        case job(seq: Int64)
    }

    /// The deliveries waiting for a payload, oldest first.
    package static let select =
        "SELECT seq, event_type, task_seq, job_seq, created_at FROM deliveries WHERE payload = '' ORDER BY seq"

    package static func read(_ row: some RowReader) throws -> Unrendered {
        let type = try row.string(1)
        return Unrendered(
            seq: try row.int64(0), type: EventType(rawValue: type), typeName: type, taskSeq: try row.optionalInt64(2),
            jobSeq: try row.int64(3), createdAt: try row.int64(4))
    }

    /// The payload of `delivery`, from the record its `need` named (nil if that record is gone,
    /// which no trigger allows: an error of `engine`).
    package static func payload(
        for delivery: Unrendered, task: TaskRecord?, job: JobRecord?, engine: StoreError.Code
    ) throws -> String {
        switch (delivery.type, delivery.need) {
        case (.taskFinished?, .task):
            guard let task else { throw StoreError(engine, "a task.finished delivery for a task that does not exist") }
            return Representation.taskFinished(task).text
        case (.jobFinished?, .job):
            guard let job else { throw StoreError(engine, "a job.finished delivery for a job that does not exist") }
            return Representation.jobFinished(job).text
        default:
            throw StoreError(engine, "a delivery of unknown type \(delivery.typeName)")
        }
    }
}
