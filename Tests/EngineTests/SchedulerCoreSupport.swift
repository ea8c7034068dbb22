import Synchronization

@testable import Engine
@testable import Store

/// A clock that moves only when a test moves it: wall and monotonic time advance together.
final class ManualClock: Sendable {
    /// A fixed point to count from; only distances from it matter.
    let origin = ContinuousClock.now
    let wallOrigin: Int64 = 1_750_000_000_000
    private let elapsedMillis = Atomic<Int64>(0)

    var now: EngineTime {
        let elapsed = elapsedMillis.load(ordering: .relaxed)
        return EngineTime(wallMillis: wallOrigin + elapsed, instant: origin + .milliseconds(elapsed))
    }

    func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        elapsedMillis.add(seconds * 1_000 + attoseconds / 1_000_000_000_000_000, ordering: .relaxed)
    }

    var engineClock: EngineClock {
        EngineClock(wallMillis: { self.now.wallMillis }, monotonic: { self.now.instant })
    }
}

/// A `SchedulerCore` on a manual clock, with shorthands for the events tests send most.
struct CoreHarness {
    var core: SchedulerCore
    let clock = ManualClock()

    init(
        processes: Int = 2, concurrency: Int = 3, perHost: Int = 100, intervalMillis: Int = 0,
        graceMillis: Int = 10_000, leaseMarginMillis: Int = 500, ordersAhead: Int = 0,
        jitter: JitterSource = .system, adaptive: Bool = false
    ) {
        var configuration = EngineConfiguration(
            processes: processes, concurrency: concurrency, maxBodyBytes: 4_096, leaseMarginMillis: leaseMarginMillis,
            shutdownGraceMillis: graceMillis, retry: RetryPolicy(baseMillis: 1_000, maxMillis: 60_000),
            perHostConcurrency: perHost, perHostIntervalMillis: intervalMillis,
            destinations: DestinationGuard(allowPrivateTargets: true), trustRoots: nil,
            workerExecutable: "/nonexistent/fetchq",
            userAgent: "fetchq-test", workerLogLevel: "info", ordersAhead: ordersAhead)
        configuration.clock = clock.engineClock
        configuration.jitter = jitter
        configuration.adaptivePerHost = adaptive
        core = SchedulerCore(configuration: configuration)
    }

    mutating func handle(_ event: SchedulerCore.Event) -> [SchedulerCore.Action] {
        core.handle(event, now: clock.now)
    }

    mutating func pass() -> [SchedulerCore.Action] { core.pass(now: clock.now) }

    /// Starts the core with every launch succeeding; answers the first pass.
    mutating func start() -> [SchedulerCore.Action] {
        for worker in core.start().compactMap(\.launched) { _ = handle(.launched(worker)) }
        return pass()
    }

    /// Answers a `recordAndClaim` with these tasks; returns the dispatches, by worker slot.
    mutating func claim(_ tasks: [ClaimedTask]) -> [Int: [Int64]] {
        var bySlot: [Int: [Int64]] = [:]
        for dispatch in handle(.claimed(tasks)).compactMap(\.dispatch) {
            bySlot[dispatch.worker.slot] = dispatch.orders.compactMap(\.fetch?.lease.seq)
        }
        return bySlot
    }

    mutating func finish(
        _ seq: Int64, attempt: Int = 1, on worker: WorkerRef, status: Int = 200, headers: [HeaderField] = []
    )
        -> [SchedulerCore.Action]
    {
        handle(
            .result(
                worker,
                FetchResult(
                    lease: LeaseKey(seq: seq, attempt: attempt), statusCode: status, headers: headers, durationMillis: 5
                )
            ))
    }

    func worker(_ slot: Int) -> WorkerRef { core.worker(slot) }
}

/// A claimed task as the store would hand it out.
func claimedTask(
    _ seq: Int64, host: String = "a.example:80", attempt: Int = 1, maxAttempts: Int = 3, timeoutMillis: Int = 1_000
) -> ClaimedTask {
    ClaimedTask(
        seq: seq, id: TaskID(trusted: "task-\(seq)"), jobSeq: 1, host: host,
        request: FetchRequest(
            url: "http://\(host)/\(seq)", method: "POST", headers: [HeaderField("X-N", "\(seq)")], body: [1, 2]),
        timeoutMillis: timeoutMillis, attempt: attempt, maxAttempts: maxAttempts, retryBaseMillis: nil,
        retryMaxMillis: nil)
}

extension SchedulerCore.Action {
    var launched: WorkerRef? { if case .launch(let worker) = self { worker } else { nil } }
    var dispatch: SchedulerCore.Dispatch? { if case .dispatch(let dispatch) = self { dispatch } else { nil } }
    var recordAndClaim: SchedulerCore.RecordAndClaim? { if case .recordAndClaim(let pass) = self { pass } else { nil } }
    var returnedLost: [Int64]? { if case .returnLost(let leases, _) = self { leases.map(\.seq) } else { nil } }
    var returnedInFlight: [Int64]? { if case .returnInFlight(let leases, _) = self { leases.map(\.seq) } else { nil } }
    var stopped: WorkerRef? { if case .stop(let worker) = self { worker } else { nil } }
    var handedBack: WorkerRef? { if case .handBack(let worker) = self { worker } else { nil } }
    var givenBack: [Int64]? { if case .giveBack(let leases, _) = self { leases.map(\.seq) } else { nil } }
    var killed: (WorkerRef, SchedulerCore.KillReason)? {
        if case .kill(let worker, let reason) = self { (worker, reason) } else { nil }
    }
    var canceled: (LeaseKey, WorkerRef)? {
        if case .cancel(let lease, let worker) = self { (lease, worker) } else { nil }
    }
    var note: SchedulerCore.Note? { if case .note(let note) = self { note } else { nil } }
}

extension [SchedulerCore.Action] {
    var recordAndClaim: SchedulerCore.RecordAndClaim? { lazy.compactMap(\.recordAndClaim).first }
    var launches: [WorkerRef] { compactMap(\.launched) }
}

extension Order {
    var fetch: FetchOrder? { if case .fetch(let order) = self { order } else { nil } }
}
