import Logging
import Store

/// The engine's loop: takes events from the inbox, lets `SchedulerCore` decide, and performs what
/// it decided: store calls, worker launches, writes to their pipes. It owns the worker processes;
/// the core owns every decision. One task runs it; everything else talks to it through the inbox.
struct Scheduler {
    private let store: any QueueStore
    private let configuration: EngineConfiguration
    private let inbox: EventInbox<EngineEvent>
    private let logger: Logger
    private let clock: EngineClock
    private var core: SchedulerCore
    private var workers: [WorkerRef: WorkerProcess] = [:]
    /// Scheduler passes that wrote, and the results they recorded (logged when the engine stops).
    private var passes = 0
    private var resultsRecorded = 0
    private let status: EngineStatus
    private let metrics: EngineMetrics
    /// Fetches robots.txt off the loop, for the tasks that obey it.
    private let robotsFetcher: RobotsFetcher?
    /// The robots gate's version last published.
    private var robotsPublished = 0
    /// Attempts that ended in this turn of the loop, published with the status at its end.
    private var finished: [(host: String, HostActivity.Attempt, Int?, String?)] = []

    init(
        store: any QueueStore, configuration: EngineConfiguration, inbox: EventInbox<EngineEvent>, logger: Logger,
        status: EngineStatus = EngineStatus(), metrics: EngineMetrics = .none, robots: RobotsFetcher? = nil
    ) {
        self.robotsFetcher = robots
        self.store = store
        self.configuration = configuration
        self.inbox = inbox
        self.logger = logger
        self.status = status
        self.metrics = metrics
        self.clock = configuration.clock
        self.core = SchedulerCore(configuration: configuration)
    }

    mutating func run() async throws {
        await perform(core.start())
        logger.info(
            "engine started",
            metadata: [
                "engine.processes": "\(core.slots.count)", "engine.concurrency": "\(configuration.concurrency)",
            ])
        await perform(core.pass(now: clock.read()))
        publishStatus()
        while !core.isFinished {
            for event in await inbox.take() {
                if case .exited(let worker, _, _) = event { workers[worker] = nil }
                if case .tick = event { status.prune(now: clock.read().wallMillis) }
                await perform(core.handle(SchedulerCore.Event(event), now: clock.read()))
            }
            await perform(core.pass(now: clock.read()))
            publishStatus()
        }
        logger.info(
            "engine stopped",
            metadata: [
                "engine.passes": "\(passes)", "tasks.recorded": "\(resultsRecorded)",
                "engine.results_per_pass": "\(passes == 0 ? 0 : resultsRecorded / passes)",
            ])
    }

    /// Hands the API this turn's view of hosts and slots (see `EngineStatus`).
    private mutating func publishStatus() {
        let robotsChanged = core.robots.version != robotsPublished
        robotsPublished = core.robots.version
        status.publish(
            limits: core.hosts, freeSlots: core.freeFetchSlots, workersLive: core.slots.filter(\.running).count,
            attempts: finished, robots: robotsChanged ? core.robots.byHost() : nil)
        finished.removeAll(keepingCapacity: true)
    }

    /// Performs actions in order; what an action's outcome makes the core decide is performed
    /// before the next one.
    private mutating func perform(_ actions: [SchedulerCore.Action]) async {
        var pending = actions[...]
        while let action = pending.popFirst() {
            let followUp = await perform(action)
            if !followUp.isEmpty { pending = (followUp + pending)[...] }
        }
    }

    private mutating func perform(_ action: SchedulerCore.Action) async -> [SchedulerCore.Action] {
        switch action {
        case .launch(let worker):
            let launched = launch(worker)
            return core.handle(launched ? .launched(worker) : .launchFailed(worker), now: clock.read())
        case .dispatch(let dispatch):
            for task in dispatch.tasks {
                logger.trace(
                    "task dispatched", metadata: ["task.id": "\(task)", "worker.slot": "\(dispatch.worker.slot)"])
            }
            do {
                try workers[dispatch.worker]?.send(dispatch.orders)
            } catch {
                // The pipe broke: the worker is dying, and its exit returns these tasks.
                logger.warning(
                    "sending orders failed", metadata: ["worker.slot": "\(dispatch.worker.slot)", "error": "\(error)"])
            }
            return []
        case .cancel(let lease, let worker):
            try? workers[worker]?.send([.cancel(lease)])
            return []
        case .handBack(let worker):
            try? workers[worker]?.send([.handBack])
            return []
        case .giveBack(let leases, let now):
            do {
                try await store.giveBack(leases.map { ($0.seq, $0.attempt) }, now: now)
                return []
            } catch {
                logger.error("returning unstarted tasks failed", metadata: ["error": "\(error)"])
                return core.handle(.giveBackFailed(leases), now: clock.read())
            }
        case .holdBack(let leases, let until, let now):
            do {
                try await store.giveBack(leases.map { ($0.seq, $0.attempt) }, now: now, dueAt: until)
                return []
            } catch {
                logger.error("returning tasks that wait for robots.txt failed", metadata: ["error": "\(error)"])
                return core.handle(.giveBackFailed(leases), now: clock.read())
            }
        case .fetchRobots(let origin, let host):
            robotsFetcher?.fetch(origin: origin, host: host)
            return []
        case .kill(let worker, let reason):
            if case .stuck(let tasks) = reason {
                logger.error(
                    "worker stuck past a lease; killing it",
                    metadata: [
                        "worker.slot": "\(worker.slot)",
                        "task.id": "\(tasks.map(\.description).joined(separator: ","))",
                    ])
            }
            workers[worker]?.kill()
            return []
        case .stop(let worker):
            workers[worker]?.stop()
            return []
        case .returnLost(let leases, let now):
            do {
                try await store.returnLost(
                    leases.map { ($0.seq, $0.attempt) }, error: "worker_lost",
                    message: "the worker process running the task died", now: now)
                return []
            } catch {
                logger.error("returning tasks of a dead worker failed", metadata: ["error": "\(error)"])
                return core.handle(.returnLostFailed(leases), now: clock.read())
            }
        case .recordAndClaim(let pass):
            return await recordAndClaim(pass)
        case .returnInFlight(let leases, let now):
            do {
                let returned = try await store.giveBack(leases.map { ($0.seq, $0.attempt) }, now: now)
                logger.notice("returned in-flight tasks to the queue", metadata: ["tasks": "\(returned)"])
            } catch {
                logger.error("returning in-flight tasks failed", metadata: ["error": "\(error)"])
            }
            return []
        case .note(let note):
            observe(note)
            log(note)
            return []
        }
    }

    /// The pass's one write. Results that could not be recorded go back to the core and are tried
    /// again on the next pass: never dropped.
    private mutating func recordAndClaim(_ pass: SchedulerCore.RecordAndClaim) async -> [SchedulerCore.Action] {
        let claimed: [ClaimedTask]
        do {
            claimed = try await store.recordAndClaim(
                pass.results, limit: pass.limit, now: pass.now, leaseMarginMillis: configuration.leaseMarginMillis,
                hosts: pass.hosts
            ).claimed
        } catch {
            // On a full disk the store has said so once; the results wait here and the next pass
            // (the next tick at the latest) tries them again, until there is room.
            let full = (error as? StoreError)?.isStorageFull ?? false
            logger.log(
                level: full ? .debug : .error, "recording results and claiming tasks failed",
                metadata: ["error": "\(error)", "results": "\(pass.results.count)"])
            return core.handle(.recordFailed(pass.results), now: clock.read())
        }
        passes += 1
        resultsRecorded += pass.results.count
        guard !claimed.isEmpty else { return [] }
        for task in claimed { metrics.waited(millis: pass.now - task.dueAt) }
        return core.handle(.claimed(claimed), now: clock.read())
    }

    /// Starts the worker process; answers whether it runs.
    private mutating func launch(_ worker: WorkerRef) -> Bool {
        let inbox = self.inbox
        do {
            let process = try WorkerProcess.launch(
                executable: configuration.workerExecutable,
                arguments: [
                    "worker", "--concurrency", "\(configuration.concurrency)", "--user-agent", configuration.userAgent,
                    "--log-level", configuration.workerLogLevel, "--max-queue-ms", "\(configuration.maxQueueMillis)",
                ] + configuration.destinations.arguments + (configuration.trustRoots?.arguments ?? []),
                name: "fetchq-worker-\(worker.slot)",
                onReport: { report in inbox.post(.report(worker, report)) },
                onExit: { termination, error in inbox.post(.exited(worker, termination, error.map { "\($0)" })) })
            workers[worker] = process
            logger.info("worker started", metadata: ["worker.slot": "\(worker.slot)", "worker.pid": "\(process.pid)"])
            return true
        } catch {
            logger.error("starting a worker failed", metadata: ["worker.slot": "\(worker.slot)", "error": "\(error)"])
            return false
        }
    }

    /// Metrics and host activity from a decision.
    private mutating func observe(_ note: SchedulerCore.Note) {
        switch note {
        case .attemptFinished(_, _, let statusCode, _, let disposition, let detail):
            metrics.attempt(statusCode: statusCode, durationMillis: detail.durationMillis, disposition: disposition)
            if let limit = detail.limitLowered {
                metrics.hostLimitDecreases.increment()
                logger.info("host limit lowered", metadata: ["host": "\(detail.host)", "host.limit": "\(limit)"])
            }
            let result: HostActivity.Attempt.Result =
                switch disposition {
                case .succeeded: .succeeded
                case .failed: .failed
                case .retry: .retried
                }
            finished.append(
                (
                    detail.host,
                    HostActivity.Attempt(at: detail.finishedAt, result: result, durationMillis: detail.durationMillis),
                    statusCode, detail.errorMessage
                ))
        case .workerLost:
            metrics.workerRestarts.increment()
        case .draining:
            break
        case .refusedByRobots(_, let error, _):
            metrics.refusedByRobots(error: error)
        case .robotsFetched(_, let result):
            metrics.robotsFetched(result: result)
        }
    }

    private func log(_ note: SchedulerCore.Note) {
        switch note {
        case .draining(let inFlight, let graceMillis):
            logger.notice(
                "engine draining", metadata: ["tasks.in_flight": "\(inFlight)", "shutdown.grace_ms": "\(graceMillis)"])
        case .workerLost(let worker, let termination, let error, let returned):
            logger.warning(
                "worker died; restarting it",
                metadata: [
                    "worker.slot": "\(worker.slot)", "worker.termination": "\(termination)",
                    "worker.error": "\(error ?? "-")", "tasks.returned": "\(returned)",
                ])
        case .attemptFinished(let task, let attempt, let statusCode, let failure, let disposition, _):
            logger.debug(
                "attempt finished",
                metadata: [
                    "task.id": "\(task)", "task.attempt": "\(attempt)",
                    "http.status": "\(statusCode.map(String.init) ?? "-")",
                    "task.error": "\(failure?.rawValue ?? "-")", "task.next": "\(disposition)",
                ])
        case .refusedByRobots(let task, let error, let message):
            logger.info(
                "task refused by robots.txt", metadata: ["task.id": "\(task)", "task.error": "\(error): \(message)"])
        case .robotsFetched(let origin, let result):
            logger.info("robots.txt fetched", metadata: ["robots.origin": "\(origin)", "robots.result": "\(result)"])
        }
    }
}

extension SchedulerCore.Event {
    /// The core's reading of an inbox event.
    init(_ event: EngineEvent) {
        switch event {
        case .wake: self = .wake
        case .tick: self = .tick
        case .report(let worker, .result(let result)): self = .result(worker, result)
        case .report(let worker, .unstarted(let lease)): self = .unstarted(worker, lease)
        case .exited(let worker, let termination, let error): self = .exited(worker, termination, error)
        case .abort(let seqs): self = .abort(seqs)
        case .shutdown: self = .shutdown
        case .robots(let origin, let answer): self = .robotsFetched(origin: origin, answer)
        }
    }
}
