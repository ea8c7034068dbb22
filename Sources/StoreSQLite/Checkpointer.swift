import Dispatch
import Logging
import Store

/// Copies committed pages from the write-ahead log into the database file, on a connection and a
/// queue of its own, a few times a second.
///
/// The writer runs with `wal_autocheckpoint = 0`, so its commits never stop to checkpoint (which
/// syncs the database file: about as long as the commit itself, measured). A passive checkpoint
/// never blocks the writer or a reader; once it has caught up, the writer's next transaction starts
/// the log over, so the log stays small.
///
/// Under a steady stream of writes it never catches up: each passive checkpoint ends with new
/// frames behind it, and the log grew without end (420 MB for 100,000 tasks, measured), every
/// commit appending to new file space (the kernel zeroing and allocating pages: about 20 % of the
/// supervisor's CPU, profiled). So once the log holds `restartFrames` frames, the checkpointer asks
/// the writer (`restartLog`) to finish the checkpoint between two of its transactions and start
/// the log over, reusing the file's pages.
///
/// `@unchecked Sendable` is safe: `timer` is set once in `init` and only cancelled after (a source's
/// `cancel` may be called from any thread).
final class Checkpointer: @unchecked Sendable {
    private let timer: any DispatchSourceTimer

    init(
        path: String, interval: DispatchTimeInterval = .milliseconds(200), restartFrames: Int, storage: StorageHealth,
        logger: Logger, restartLog: @escaping @Sendable () -> Void
    ) throws(StoreError) {
        let connection = CheckpointConnection(db: try Database(path: path, mode: .readWrite))
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "fetchq.store.checkpoint"))
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler {
            do {
                // One row: busy, frames in the log, frames copied into the database.
                let frames = try connection.db.queryOne("PRAGMA wal_checkpoint(PASSIVE)") { $0.int(1) } ?? 0
                if frames >= restartFrames { restartLog() }
            } catch {
                // A full disk is reported once per episode, not five times a second.
                guard !storage.noteFailure(error) else { return }
                logger.warning("checkpoint failed", metadata: ["error": "\(error)"])
            }
        }
        timer.resume()
        self.timer = timer
    }

    deinit { timer.cancel() }
}

/// The checkpointer's connection. `@unchecked Sendable` is safe: only the timer's handler uses it,
/// and a timer source never runs its handler twice at once.
private final class CheckpointConnection: @unchecked Sendable {
    let db: Database
    init(db: Database) { self.db = db }
}
