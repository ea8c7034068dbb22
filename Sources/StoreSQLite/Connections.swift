import CoreMetrics
import Dispatch
import Foundation
import NIOConcurrencyHelpers
import Store

/// The single read-write connection and the state that goes with it, reached only through
/// `WriteConnection`'s serial queue.
final class WriterState {
    let db: Database
    var ids = ULID()

    init(db: Database) { self.db = db }

    /// On a full disk, copies the write-ahead log into the database and truncates it: the log can
    /// only start over once it is copied in whole, and until then every commit lengthens it, so
    /// the space freed on a full disk would go to the log before the database could use it.
    ///
    /// It does not wait for readers or the checkpointer (busy timeout 0): a later write tries again.
    /// The space this gives back is the store's own, not space freed on the disk (see `StorageHealth`).
    func reclaimLog(storage: StorageHealth) {
        let before = logBytes()
        checkpoint("TRUNCATE", waitingMillis: 0)
        storage.noteReclaimed(max(0, before - logBytes()))
    }

    private func logBytes() -> Int64 {
        let attributes = try? FileManager.default.attributesOfItem(atPath: db.path + "-wal")
        return (attributes?[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// Finishes the checkpoint and starts the log over (see `Checkpointer`). Readers get 50 ms to
    /// finish with the log; past that it gives up and a later request tries again.
    func restartLog() { checkpoint("RESTART", waitingMillis: 50) }

    /// A checkpoint in `mode` that waits at most `waitingMillis` for readers and the checkpointer,
    /// then puts the writer's usual busy timeout back.
    private func checkpoint(_ mode: String, waitingMillis: Int) {
        try? db.execute("PRAGMA busy_timeout = \(waitingMillis); PRAGMA wal_checkpoint(\(mode));")
        try? db.execute("PRAGMA busy_timeout = 5000")
    }

    /// Reports a failed write; on a full disk, first gives back what the log can.
    func failed(_ error: any Error, storage: StorageHealth) {
        guard (error as? StoreError)?.isStorageFull == true else { return }
        storage.noteFailure(error)
        if db.isAutocommit { reclaimLog(storage: storage) }
    }

    /// A write transaction that may finish tasks or jobs: the webhook deliveries its triggers
    /// create are rendered before it commits (see `Outbox`).
    func transactionRenderingEvents<T>(_ durability: Database.Durability = .synced, _ body: () throws -> T) throws -> T
    {
        try db.transaction(durability) {
            let result = try body()
            try Outbox.renderNewDeliveries(in: db, ids: &ids)
            return result
        }
    }
}

/// Serialises every write on one dispatch queue, so SQLite's blocking calls (and the fsync of a
/// durable commit) never occupy a thread of Swift's cooperative pool.
///
/// `@unchecked Sendable` is safe: `state` is only touched inside blocks run on `queue`, which is serial.
final class WriteConnection: @unchecked Sendable {
    private let state: WriterState
    private let queue = DispatchQueue(label: "fetchq.store.writer")
    /// Told after every write, for readers that wait for a change.
    let commits = CommitSignal()
    private let writeSeconds: CoreMetrics.Timer
    /// Told of every write that fails for lack of space.
    let storage: StorageHealth

    init(_ state: WriterState, storage: StorageHealth, metrics: any MetricsFactory) {
        self.state = state
        self.storage = storage
        self.writeSeconds = CoreMetrics.Timer(label: "fetchq_store_write_seconds", factory: metrics)
    }

    func perform<T: Sendable>(_ body: @escaping @Sendable (WriterState) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                if self.storage.isFull { self.state.reclaimLog(storage: self.storage) }
                let result = self.timed { try body(self.state) }
                if case .failure(let error) = result { self.state.failed(error, storage: self.storage) }
                continuation.resume(with: result)
            }
        }
    }

    /// Runs `body` on the writer's queue, not waiting for it.
    func enqueue(_ body: @escaping @Sendable (WriterState) -> Void) {
        queue.async {
            if self.storage.isFull { self.state.reclaimLog(storage: self.storage) }
            _ = self.timed { body(self.state) }
        }
    }

    /// Runs one write, records how long it took and, when it changed rows, tells waiting readers
    /// (an idle engine's claims that find nothing wake nobody).
    private func timed<T>(_ body: () throws -> T) -> Result<T, any Error> {
        let start = DispatchTime.now().uptimeNanoseconds
        let changesBefore = state.db.totalChanges
        let result = Result { try body() }
        writeSeconds.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds &- start))
        if state.db.totalChanges != changesBefore { commits.committed() }
        return result
    }
}

/// Read-only connections, opened on demand and reused. WAL lets them read while the writer writes.
final class ReaderPool: Sendable {
    /// A connection parked in the pool. `@unchecked Sendable` is safe: a parked connection is used
    /// by nobody, and one taken out is used by the taker alone until it is put back.
    private struct Parked: @unchecked Sendable { let db: Database }

    private let path: String
    private let idle = NIOLockedValueBox<[Parked]>([])

    init(path: String) { self.path = path }

    func withReader<T>(_ body: (Database) throws -> T) throws -> T {
        let parked = try idle.withLockedValue { $0.popLast() } ?? Parked(db: Self.open(path))
        defer { idle.withLockedValue { $0.append(parked) } }
        return try body(parked.db)
    }

    private static func open(_ path: String) throws -> Database {
        let db = try Database(path: path, mode: .readOnly)
        try db.execute("PRAGMA query_only = ON")
        return db
    }
}
