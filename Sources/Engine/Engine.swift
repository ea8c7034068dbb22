import Foundation
import Logging
import ServiceLifecycle
import Store
import Synchronization

/// Settings of the engine: the process × concurrency fan-out and the limits of each fetch.
public struct EngineConfiguration: Sendable {
    /// Worker processes (`--processes`).
    public var processes: Int
    /// Requests in flight per worker process (`--concurrency`).
    public var concurrency: Int
    /// Response bytes kept per task (`--max-body-bytes`).
    public var maxBodyBytes: Int
    /// How long after a task's own timeout its lease runs out and its worker is presumed stuck.
    public var leaseMarginMillis: Int
    /// How often the engine looks for due tasks (retries, delays) and stuck workers when idle.
    public var tickMillis: Int
    /// Time in-flight fetches get to finish on shutdown (`--shutdown-grace`).
    public var shutdownGraceMillis: Int
    public var retry: RetryPolicy
    /// The executable started as `executable worker …` (normally this binary).
    public var workerExecutable: String
    public var userAgent: String
    /// Log level passed to worker processes.
    public var workerLogLevel: String
    /// Requests in flight at once to one host (host[:port]), across all workers.
    public var perHostConcurrency: Int
    /// Least time between the starts of two requests to one host; 0 for none.
    public var perHostIntervalMillis: Int
    /// Which addresses workers may connect to.
    public var destinations: DestinationGuard
    /// Certificate authorities workers trust on top of the system's (`--ca-file`).
    public var trustRoots: TrustRoots?
    /// Orders each worker holds beyond its concurrency, queued, so that a finished fetch starts
    /// the next at once rather than after the scheduler's next pass. None when hosts have a
    /// request interval: an order's start must then be the moment the scheduler chose.
    public var ordersAhead: Int
    /// Where the engine reads the time; tests pass one they advance by hand.
    public var clock: EngineClock
    /// Where retry jitter is drawn; tests pass a seeded one.
    public var jitter: JitterSource
    /// How tasks that obey robots.txt are checked.
    public var robots: RobotsPolicy
    /// Whether a host's limit adapts below `perHostConcurrency` when it shows overload.
    public var adaptivePerHost: Bool

    /// Every value an operator can set has no default here: `fetchq serve`'s settings table holds it.
    public init(
        processes: Int, concurrency: Int, maxBodyBytes: Int, leaseMarginMillis: Int = 30_000,
        tickMillis: Int = 200, shutdownGraceMillis: Int, retry: RetryPolicy, perHostConcurrency: Int,
        perHostIntervalMillis: Int, destinations: DestinationGuard, trustRoots: TrustRoots?, workerExecutable: String,
        userAgent: String, workerLogLevel: String, ordersAhead: Int? = nil, clock: EngineClock = .system,
        jitter: JitterSource = .system, robots: RobotsPolicy = RobotsPolicy(), adaptivePerHost: Bool = true
    ) {
        self.processes = processes
        self.concurrency = concurrency
        self.maxBodyBytes = maxBodyBytes
        self.leaseMarginMillis = leaseMarginMillis
        self.tickMillis = tickMillis
        self.shutdownGraceMillis = shutdownGraceMillis
        self.retry = retry
        self.perHostConcurrency = perHostConcurrency
        self.perHostIntervalMillis = perHostIntervalMillis
        self.destinations = destinations
        self.trustRoots = trustRoots
        self.workerExecutable = workerExecutable
        self.userAgent = userAgent
        self.workerLogLevel = workerLogLevel
        self.ordersAhead = perHostIntervalMillis > 0 ? 0 : max(0, ordersAhead ?? concurrency)
        self.clock = clock
        self.jitter = jitter
        self.robots = robots
        self.adaptivePerHost = adaptivePerHost
    }

    /// Longest a queued order waits in a worker for a free slot before it comes back unstarted: a
    /// quarter of the lease margin, at most 5 s, so the lease taken at the claim and the
    /// stuck-worker limit still cover the fetch.
    public var maxQueueMillis: Int { min(5_000, max(1, leaseMarginMillis / 4)) }

    /// How long a worker that handed orders back gets none ahead: its fetches are slow, so orders
    /// queued there would only wait.
    var aheadPauseMillis: Int { 4 * maxQueueMillis }
}

/// What the scheduler reacts to.
enum EngineEvent: Sendable {
    /// New work may be due (a submit, a retry made by a user).
    case wake
    /// The periodic tick: look for due tasks, stuck workers, workers to restart.
    case tick
    case report(WorkerRef, Report)
    case exited(WorkerRef, Termination, String?)
    /// An origin's robots.txt was fetched.
    case robots(origin: String, RobotsAnswer)
    /// Abort these running tasks (they were canceled).
    case abort([Int64])
    case shutdown
}

/// Names one incarnation of a worker slot, so events of a dead process never touch its successor.
struct WorkerRef: Hashable, Sendable {
    let slot: Int
    let generation: Int
}

/// The scheduler: claims due tasks from the store, hands them to worker processes, records their
/// results in batches, restarts workers that die and returns their tasks to the queue.
public final class Engine: Service, Sendable {
    private let store: any QueueStore
    public let configuration: EngineConfiguration
    private let logger: Logger
    private let inbox = EventInbox<EngineEvent>()
    private let draining = Atomic(false)
    /// What the scheduler is doing now, for `GET /v1/hosts` and a task's `waiting_for`.
    public let status = EngineStatus()
    private let metrics: EngineMetrics

    public init(
        store: any QueueStore, configuration: EngineConfiguration, logger: Logger, metrics: EngineMetrics = .none
    ) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
    }

    /// Tells the engine that new tasks may be due.
    public func wake() { inbox.post(.wake) }

    /// False once shutdown has begun: new submissions are refused rather than left waiting.
    public var isAcceptingWork: Bool { !draining.load(ordering: .relaxed) }

    /// Asks the workers running these tasks to abort them.
    public func abort(_ seqs: [Int64]) {
        if !seqs.isEmpty { inbox.post(.abort(seqs)) }
    }

    public func run() async throws {
        let rescued = try await store.rescueLeftRunning(
            now: configuration.clock.wallMillis(), reason: "the service stopped while the task was running")
        if rescued > 0 {
            logger.notice("returned tasks left running by an earlier run", metadata: ["tasks": "\(rescued)"])
        }
        let robots = RobotsFetcher(configuration: configuration, inbox: inbox, logger: logger)
        var scheduler = Scheduler(
            store: store, configuration: configuration, inbox: inbox, logger: logger, status: status, metrics: metrics,
            robots: robots)
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                let (inbox, clock, tick) = (self.inbox, configuration.clock, configuration.tickMillis)
                group.addTask { await clock.tick(every: .milliseconds(tick), posting: .tick, into: inbox) }
                group.addTask { await robots.run() }
                try await scheduler.run()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.draining.store(true, ordering: .relaxed)
            self.inbox.post(.shutdown)
        }
    }
}
