import Logging
import PostgresNIO

/// One PostgreSQL migration: a file `migrations/postgres/NNNN_name.sql`, embedded at build time.
public struct PostgresMigration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String
}

/// Applies PostgreSQL migrations in order, each in its own transaction, recording them in
/// `schema_migrations`. Nodes started together may all migrate: a transaction-scoped advisory
/// lock makes them take turns, and each re-reads what is applied once it holds the lock.
public enum PostgresMigrator {
    /// The advisory lock migrations take turns on; arbitrary, but the same in every fetchq.
    static let lockKey: Int64 = 7_253_068_941_220_451

    /// The versions this binary carries.
    public static var known: [Int] { PostgresMigration.embedded.map(\.version) }

    /// Applies what is pending; answers the versions applied now.
    public static func migrate(_ location: PostgresLocation, logger: Logger) async throws -> [Int] {
        let client = PostgresClient(configuration: location.clientConfiguration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            // Leasing a connection before run() has started only logs a warning, but it does.
            await Task.yield()
            return try await migrate(client, logger: logger)
        }
    }

    /// Applies what is pending through `client`, which must be running.
    public static func migrate(_ client: PostgresClient, logger: Logger) async throws -> [Int] {
        // Under the lock too: two `CREATE TABLE IF NOT EXISTS` at once can both try to create it.
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text    NOT NULL,
                    applied_at bigint  NOT NULL
                )
                """, logger: logger)
        }
        var applied: [Int] = []
        for migration in PostgresMigration.embedded {
            let ran = try await client.withTransaction(logger: logger) { connection -> Bool in
                try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
                let done = try await connection.query(
                    "SELECT 1 FROM schema_migrations WHERE version = \(migration.version)", logger: logger)
                for try await _ in done { return false }
                for statement in SQLScript.statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    """
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(migration.version), \(migration.name), (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                    """, logger: logger)
                return true
            }
            if ran {
                logger.info("migration applied", metadata: ["migration.version": "\(migration.version)"])
                applied.append(migration.version)
            }
        }
        return applied
    }
}
