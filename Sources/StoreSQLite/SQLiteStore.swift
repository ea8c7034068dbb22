import CoreMetrics
import Foundation
import Logging
import Store

/// The durable home of jobs and tasks: one verb per state transition plus the reads the API needs.
///
/// All writes go through one connection on one serial queue (the supervisor is the database's only
/// writer); reads use a pool of read-only connections and never wait for a write to commit.
public final class SQLiteStore: Sendable {
    let writer: WriteConnection
    let readers: ReaderPool
    let submissions = SubmissionQueue()
    private let checkpointer: Checkpointer
    public let path: String
    /// Whether the disk has room; `/healthz` and the API's 507 read it.
    public var storage: StorageHealth { writer.storage }

    /// Writes finished, for readers that wait for a change.
    var commits: CommitSignal { writer.commits }

    /// Opens (creating if needed) the database at `path` and applies pending migrations. `metrics`
    /// receives the time of each write (`fetchq_store_write_seconds`). Once the write-ahead log
    /// holds `logRestartFrames` frames (4,096: 16 MiB of 4 KiB pages) it is started over
    /// (`Checkpointer`).
    public init(
        path: String, now: Int64 = WallClock.nowMillis(), logger: Logger,
        metrics: any MetricsFactory = NOOPMetricsHandler.instance, logRestartFrames: Int = 4_096
    ) throws {
        let isNew = !FileManager.default.fileExists(atPath: path)
        let db = try Database(path: path, mode: .readWrite)
        // The database holds request headers (tokens, cookies): readable by its owner only.
        if isNew { try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path) }
        try db.execute(
            """
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            PRAGMA foreign_keys = ON;
            PRAGMA temp_store = MEMORY;
            PRAGMA journal_size_limit = 67108864;
            PRAGMA cache_size = -8192;
            """
        )
        try Migrator(migrations: Migration.embedded).migrate(db, now: now, logger: logger)
        // Checkpoints run beside the writer, not inside its commits.
        try db.execute("PRAGMA wal_autocheckpoint = 0")
        self.path = path
        let storage = StorageHealth(databasePath: path, logger: logger)
        self.writer = WriteConnection(WriterState(db: db), storage: storage, metrics: metrics)
        self.readers = ReaderPool(path: path)
        let writer = self.writer
        self.checkpointer = try Checkpointer(
            path: path, restartFrames: logRestartFrames, storage: storage, logger: logger,
            restartLog: { writer.enqueue { $0.restartLog() } })
    }

    /// Applies pending migrations to the database at `path`; answers the versions applied.
    @discardableResult
    public static func migrate(path: String, logger: Logger) throws -> [Int] {
        let db = try Database(path: path, mode: .readWrite)
        try db.execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
        return try Migrator(migrations: Migration.embedded).migrate(db, now: WallClock.nowMillis(), logger: logger)
    }

    /// The versions of the migrations this binary carries.
    public static var knownMigrations: [Int] { Migration.embedded.map(\.version) }
}

extension SQLiteStore: QueueStore {
    public var health: StoreHealth {
        switch storage.status {
        case .ok: .ok
        case .full(let since): .full(since: since)
        }
    }
}
