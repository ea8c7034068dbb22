import Logging
import Store

/// One numbered schema change, read from `migrations/NNNN_name.sql` at build time.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String
}

/// Applies migrations in order, each in its own transaction, recording them in `schema_migrations`.
struct Migrator {
    let migrations: [Migration]

    /// Applies the migrations not yet recorded; answers the versions it applied.
    @discardableResult
    func migrate(_ db: Database, now: Int64, logger: Logger) throws -> [Int] {
        try db.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL
            ) STRICT
            """
        )
        let applied = Set(try db.query("SELECT version FROM schema_migrations") { $0.int(0) })
        if let newest = applied.max(), let known = migrations.map(\.version).max(), newest > known {
            throw StoreError(
                .migration,
                "the database is at schema version \(newest), newer than this binary knows (\(known))"
            )
        }
        var done: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version })
        where !applied.contains(migration.version) {
            try db.transaction {
                do {
                    try db.execute(migration.sql)
                } catch let error as StoreError {
                    throw StoreError(
                        .migration,
                        "migration \(migration.version)_\(migration.name) failed: \(error.message)",
                        engineCode: error.engineCode, storageFull: error.isStorageFull
                    )
                }
                try db.run(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [.int(migration.version), .text(migration.name), .integer(now)]
                )
            }
            logger.info(
                "applied migration",
                metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"]
            )
            done.append(migration.version)
        }
        return done
    }
}
