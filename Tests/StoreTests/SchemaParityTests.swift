import Foundation
import TestSupport
import Testing

@testable import Store
@testable import StoreSQLite

/// The two engines' schemas, each written by hand in its own migrations, kept in step: the same
/// tables with the same columns, and the same states allowed by their `CHECK`s as the model's enums.
@Suite struct SchemaParityTests {
    /// Columns one engine has for reasons of its own: SQLite's `waiting` keeps delayed tasks out of
    /// the claim's index; on PostgreSQL a running task and a leased delivery carry their node.
    static let sqliteOnly: Set<String> = ["tasks.waiting"]
    static let postgresOnly: Set<String> = ["tasks.node_id", "deliveries.node_id"]
    static let sharedTables = [
        "jobs", "tasks", "task_bodies", "task_attempts", "idempotency_keys", "settings", "deliveries", "host_pauses",
    ]

    @Test func bothEnginesHaveTheSameColumnsAndStates() async throws {
        let (sqliteColumns, sqliteTables) = try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "parity.db").path
            _ = try SQLiteStore(path: path, logger: .quiet)
            let db = try Database(path: path, mode: .readOnly)
            var columns: Set<String> = []
            for table in Self.sharedTables {
                for name in try db.query("SELECT name FROM pragma_table_info('\(table)')", [], { $0.string(0) }) {
                    columns.insert("\(table).\(name)")
                }
            }
            let definitions = try db.query(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN ('tasks', 'deliveries')", [],
                { ($0.string(0), $0.string(1)) })
            return (columns, Dictionary(uniqueKeysWithValues: definitions))
        }
        let (postgresColumns, postgresChecks) = try await SharedPostgres.shared.withDatabase { url in
            try await withPostgresStore(url: url) { _ in }
            let list = Self.sharedTables.map { "'\($0)'" }.joined(separator: ", ")
            let columns = try await SharedPostgres.shared.query(
                url,
                "SELECT table_name || '.' || column_name FROM information_schema.columns"
                    + " WHERE table_schema = 'public' AND table_name IN (\(list))")
            let checks = try await SharedPostgres.shared.query(
                url,
                "SELECT t.relname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
                    + " JOIN pg_class t ON t.oid = c.conrelid"
                    + " WHERE c.contype = 'c' AND t.relname IN ('tasks', 'deliveries')")
            return (Set(columns), checks)
        }
        #expect(sqliteColumns.count > 50)
        #expect(sqliteColumns.subtracting(Self.sqliteOnly) == postgresColumns.subtracting(Self.postgresOnly))
        #expect(Self.sqliteOnly.isSubset(of: sqliteColumns))
        #expect(Self.postgresOnly.isSubset(of: postgresColumns))

        // Every state of the model is allowed by both engines' CHECKs, and no other.
        let taskStates = TaskState.allCases.map(\.rawValue)
        let deliveryStates = DeliveryState.allCases.map(\.rawValue)
        let tasksSQL = try #require(sqliteTables["tasks"])
        let deliveriesSQL = try #require(sqliteTables["deliveries"])
        // SQLite's tasks table lists its states as comparisons (migration 0008: an `IN` list in a
        // CHECK built a temporary index for every row written).
        #expect(
            tasksSQL.contains("CHECK (\(taskStates.map { "state = '\($0)'" }.joined(separator: " OR ")))"))
        #expect(
            deliveriesSQL.contains("CHECK (state IN (\(deliveryStates.map { "'\($0)'" }.joined(separator: ", "))))"))
        let postgresTaskCheck = postgresChecks.first {
            $0.hasPrefix("tasks|") && $0.contains("state") && !$0.contains("failure_reason") && !$0.contains("method")
        }
        let postgresDeliveryCheck = postgresChecks.first { $0.hasPrefix("deliveries|") && $0.contains("state") }
        for state in taskStates { #expect(postgresTaskCheck?.contains("'\(state)'") == true, "\(state)") }
        for state in deliveryStates { #expect(postgresDeliveryCheck?.contains("'\(state)'") == true, "\(state)") }
        #expect(postgresTaskCheck.map { $0.components(separatedBy: "'").count / 2 } == taskStates.count)
    }
}
