import Logging
import ServiceLifecycle
import Store

/// Deletes jobs finished longer ago than the retention period, off the hot path: every `interval`
/// it sweeps in small transactions (`batchRows` rows each), each queued on the store's one writer
/// behind whatever the engine has queued, so fetching waits for one small batch at most. Between
/// batches it rests, so that the sweep takes at most `busyShare` of the writer's time: a large
/// backlog is deleted at a tenth of the writer's speed (measured: back-to-back batches halved the
/// engine's throughput) rather than in one burst that fetching would notice.
public final class RetentionSweeper: Service, Sendable {
    /// How long a finished job is kept, in milliseconds; 0 keeps everything.
    public let retentionMillis: Int64
    public let intervalMillis: Int
    public let batchRows: Int
    /// The largest share of time the sweep spends deleting while a backlog lasts (0 < share ≤ 1).
    public let busyShare: Double
    private let store: any QueueStore
    private let clock: EngineClock
    private let logger: Logger

    public init(
        store: any QueueStore, retentionMillis: Int64, intervalMillis: Int = 60_000, batchRows: Int = 500,
        busyShare: Double = 0.1, clock: EngineClock = .system, logger: Logger
    ) {
        self.busyShare = min(1, max(0.01, busyShare))
        self.store = store
        self.retentionMillis = retentionMillis
        self.intervalMillis = intervalMillis
        self.batchRows = batchRows
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        // A service that returns ends the group: with nothing to do, wait for the shutdown.
        guard retentionMillis > 0 else { return try await gracefulShutdown() }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await sweep()
            } catch {
                let full = (error as? StoreError)?.isStorageFull ?? false
                logger.log(level: full ? .debug : .error, "retention sweep failed", metadata: ["error": "\(error)"])
            }
            let pause = Duration.milliseconds(intervalMillis)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
        }
    }

    /// Deletes everything that has expired by the clock's now, batch by batch; answers the rows deleted.
    @discardableResult
    public func sweep() async throws -> Int {
        guard retentionMillis > 0 else { return 0 }
        let cutoff = clock.wallMillis() - retentionMillis
        var deleted = 0
        while !Task.isShuttingDownGracefully {
            let started = ContinuousClock.now
            let rows = try await store.deleteExpired(finishedBefore: cutoff, limit: batchRows)
            deleted += rows
            if rows < batchRows { break }
            let rest = (ContinuousClock.now - started) * ((1 - busyShare) / busyShare)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: rest) }
        }
        if deleted > 0 {
            logger.info(
                "deleted jobs past retention",
                metadata: ["rows.deleted": "\(deleted)", "retention.ms": "\(retentionMillis)"])
        }
        return deleted
    }
}
