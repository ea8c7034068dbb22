/// The columns of a webhook delivery as read for the API, and how to turn them into a
/// `DeliveryRecord`: one column list for both engines.
package enum DeliveryRow {
    package static let select = """
        SELECT d.id, d.event_type, t.id, d.url, d.state, d.attempts, d.last_status, d.last_error, d.next_attempt_at,
               d.created_at, d.delivered_at, d.seq
        FROM deliveries d LEFT JOIN tasks t ON t.seq = d.task_seq
        """

    package static func read(_ row: some RowReader) throws -> (seq: Int64, record: DeliveryRecord) {
        guard let type = EventType(rawValue: try row.string(1)), let state = DeliveryState(rawValue: try row.string(4))
        else { throw StoreError(.invalidRow, "unknown delivery type or state") }
        return (
            try row.int64(11),
            DeliveryRecord(
                id: DeliveryID(trusted: try row.string(0)), eventType: type,
                taskID: try row.optionalString(2).map(TaskID.init(trusted:)), url: try row.string(3), state: state,
                attempts: try row.int(5), lastStatus: try row.optionalInt(6), lastError: try row.optionalString(7),
                nextAttemptAt: state == .pending ? try row.int64(8) : nil, createdAt: try row.int64(9),
                deliveredAt: try row.optionalInt64(10))
        )
    }
}
