import Foundation
import Logging
import NIOConcurrencyHelpers
import Store

/// Whether the database's disk has room: set when a write fails with `SQLITE_FULL`, cleared when a
/// submission is stored again or a megabyte more than the least seen in the episode is free. One
/// warning per episode, not one per failed request.
///
/// A small write may still succeed on a full disk (the write-ahead log reuses its own space), so
/// one successful write does not end an episode: only a stored submission (the largest writes) or
/// a megabyte of space freed on the database's file system does.
public final class StorageHealth: Sendable {
    /// Where the store is, as `/healthz` reports it.
    public enum Status: Sendable, Equatable {
        case ok
        /// Writes fail for lack of space since `since` (epoch milliseconds).
        case full(since: Int64)
    }

    private struct Episode {
        var since: Int64
        /// Free bytes of the database's file system when the last write failed.
        var freeBytes: Int64?
        var failures: Int
    }

    /// How much space must come back, beyond what was free at the last failure, to end an episode.
    static let recoveredMargin: Int64 = 1 << 20

    private let directory: String
    private let logger: Logger
    private let episode = NIOLockedValueBox<Episode?>(nil)

    init(databasePath: String, logger: Logger) {
        self.directory = URL(fileURLWithPath: databasePath).deletingLastPathComponent().path
        self.logger = logger
    }

    /// The current status; while full, first checks whether space came back.
    public var status: Status {
        let free = freeBytes()
        let (status, ended) = episode.withLockedValue { current -> (Status, Episode?) in
            guard let episode = current else { return (.ok, nil) }
            if let free, let before = episode.freeBytes, free >= before + Self.recoveredMargin {
                current = nil
                return (.ok, episode)
            }
            return (.full(since: episode.since), nil)
        }
        if let ended { logRecovered(ended, why: "space was freed") }
        return status
    }

    /// True during an episode (without checking for space come back).
    var isFull: Bool { episode.withLockedValue { $0 != nil } }

    /// Notes a failed write; answers whether it failed for lack of space.
    @discardableResult
    func noteFailure(_ error: any Error) -> Bool {
        guard let error = error as? StoreError, error.isStorageFull else { return false }
        let free = freeBytes()
        let started = episode.withLockedValue { current -> Bool in
            guard var episode = current else {
                current = Episode(since: WallClock.nowMillis(), freeBytes: free, failures: 1)
                return true
            }
            // The least space seen free in the episode is what "space came back" is measured from.
            if let free { episode.freeBytes = min(episode.freeBytes ?? free, free) }
            episode.failures += 1
            current = episode
            return false
        }
        if started {
            logger.critical(
                """
                the database's disk is full: new jobs are refused with 507 and results wait in memory until there \
                is room; free space on its file system (or lower --retention, or move --db to a larger disk)
                """,
                metadata: [
                    "db.directory": "\(directory)", "disk.free_bytes": "\(free.map(String.init) ?? "unknown")",
                    "error": "\(error.message)",
                ])
        }
        return true
    }

    /// Notes that the store gave back `bytes` of its own (a truncated log): not space that came back.
    func noteReclaimed(_ bytes: Int64) {
        guard bytes > 0 else { return }
        episode.withLockedValue { current in
            guard var episode = current, let free = episode.freeBytes else { return }
            episode.freeBytes = free + bytes
            current = episode
        }
    }

    /// Notes that a submission was stored: the disk has room again.
    func noteStored() {
        guard
            let ended = episode.withLockedValue({ current -> Episode? in
                defer { current = nil }
                return current
            })
        else { return }
        logRecovered(ended, why: "a submission was stored")
    }

    private func logRecovered(_ episode: Episode, why: String) {
        logger.notice(
            "the database's disk has room again; taking new jobs",
            metadata: [
                "reason": "\(why)", "disk.full_ms": "\(WallClock.nowMillis() - episode.since)",
                "writes.failed": "\(episode.failures)",
            ])
    }

    /// Bytes an unprivileged writer may still use on the database's file system.
    private func freeBytes() -> Int64? {
        var stats = statvfs()
        guard statvfs(directory, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }
}
