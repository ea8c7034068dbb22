import Foundation
import Logging
import Store

/// The engine's loop and the state it owns alone: worker slots, the tasks in flight, results not
/// yet recorded. One task runs it; everything else talks to it through the inbox.
struct Scheduler {
    /// A task handed to a worker.
    private struct Assignment {
        let worker: WorkerRef
        let task: ClaimedTask
        let dispatchedAt: ContinuousClock.Instant
    }

    /// One worker position: the live process (if any) and how many tasks it holds.
    private struct Slot {
        var generation = 0
        var process: WorkerProcess?
        var load = 0
        var startedAt = ContinuousClock.now
        var restartAt: ContinuousClock.Instant?
        var quickDeaths = 0
    }

    private let store: Store
    private let configuration: EngineConfiguration
    private let inbox: EventInbox<EngineEvent>
    private let logger: Logger
    private var slots: [Slot]
    private var inFlight: [LeaseKey: Assignment] = [:]
    private var unrecorded: [AttemptResult] = []
    private var lost: [LeaseKey] = []
    private var drainDeadline: ContinuousClock.Instant?
    private var random = SystemRandomNumberGenerator()
    private var hosts: HostLimits
    /// Scheduler passes that wrote, and the results they recorded (logged when the engine stops).
    private var passes = 0
    private var resultsRecorded = 0

    init(store: Store, configuration: EngineConfiguration, inbox: EventInbox<EngineEvent>, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.inbox = inbox
        self.logger = logger
        self.slots = Array(repeating: Slot(), count: max(1, configuration.processes))
        self.hosts = HostLimits(
            concurrency: configuration.perHostConcurrency, intervalMillis: configuration.perHostIntervalMillis)
    }

    mutating func run() async throws {
        for slot in slots.indices { launch(slot) }
        logger.info(
            "engine started",
            metadata: ["engine.processes": "\(slots.count)", "engine.concurrency": "\(configuration.concurrency)"])
        await recordAndDispatch(claiming: true)
        while true {
            var wantsWork = false
            for event in await inbox.take() {
                wantsWork = handle(event) || wantsWork
            }
            await returnLostTasks()
            await recordAndDispatch(claiming: wantsWork && drainDeadline == nil)
            if let deadline = drainDeadline, inFlight.isEmpty || ContinuousClock.now >= deadline { break }
        }
        await stopWorkers()
    }

    /// Applies one event; answers whether it may have made room for, or brought, new work.
    private mutating func handle(_ event: EngineEvent) -> Bool {
        switch event {
        case .wake:
            return true
        case .tick:
            housekeeping()
            return true
        case .report(let worker, .result(let result)):
            guard let assignment = inFlight[result.lease], assignment.worker == worker else { return false }
            inFlight[result.lease] = nil
            slots[worker.slot].load -= 1
            hosts.finished(assignment.task.host, now: WallClock.nowMillis())
            unrecorded.append(attemptResult(assignment, result))
            return true
        case .exited(let worker, let termination, let error):
            guard slots[worker.slot].generation == worker.generation else { return false }
            workerExited(worker, termination, error)
            return true
        case .abort(let seqs):
            let wanted = Set(seqs)
            for (lease, assignment) in inFlight where wanted.contains(lease.seq) {
                try? slots[assignment.worker.slot].process?.send([.cancel(lease)])
            }
            return false
        case .shutdown:
            if drainDeadline == nil {
                drainDeadline = .now + .milliseconds(configuration.shutdownGraceMillis)
                logger.notice(
                    "engine draining",
                    metadata: [
                        "tasks.in_flight": "\(inFlight.count)",
                        "shutdown.grace_ms": "\(configuration.shutdownGraceMillis)",
                    ])
            }
            return false
        }
    }

    // MARK: Work

    private var capacity: Int {
        slots.filter { $0.process != nil }.count * configuration.concurrency - inFlight.count
    }

    /// The pass's one write: records the results gathered so far and, when `claiming`, claims as
    /// many due tasks as there are free slots, in one transaction; then hands the tasks out.
    /// Results that could not be recorded are kept and tried again on the next pass: never dropped.
    private mutating func recordAndDispatch(claiming: Bool) async {
        let wanted = claiming ? capacity : 0
        guard !unrecorded.isEmpty || wanted > 0 else { return }
        let wallNow = WallClock.nowMillis()
        let claimed: [ClaimedTask]
        do {
            claimed = try await store.recordAndClaim(
                unrecorded, limit: wanted, now: wallNow, leaseMarginMillis: configuration.leaseMarginMillis,
                hosts: hosts.allowance(now: wallNow)
            ).claimed
            passes += 1
            resultsRecorded += unrecorded.count
            unrecorded.removeAll(keepingCapacity: true)
        } catch {
            logger.error(
                "recording results and claiming tasks failed",
                metadata: ["error": "\(error)", "results": "\(unrecorded.count)"])
            return
        }
        guard !claimed.isEmpty else { return }
        var batches: [Int: [Order]] = [:]
        let now = ContinuousClock.now
        for task in claimed {
            guard let slot = leastLoadedSlot() else { break }
            let worker = WorkerRef(slot: slot, generation: slots[slot].generation)
            let lease = LeaseKey(seq: task.seq, attempt: task.attempt)
            slots[slot].load += 1
            hosts.started(task.host, now: wallNow)
            inFlight[lease] = Assignment(worker: worker, task: task, dispatchedAt: now)
            let order = FetchOrder(
                lease: lease, url: task.request.url, method: task.request.method,
                headers: task.request.headers, body: task.request.body,
                timeoutMillis: task.timeoutMillis, maxBodyBytes: configuration.maxBodyBytes)
            batches[slot, default: []].append(.fetch(order))
            logger.trace("task dispatched", metadata: ["task.id": "\(task.id)", "worker.slot": "\(slot)"])
        }
        for (slot, orders) in batches {
            do {
                try slots[slot].process?.send(orders)
            } catch {
                // The pipe broke: the worker is dying, and its exit returns these tasks.
                logger.warning("sending orders failed", metadata: ["worker.slot": "\(slot)", "error": "\(error)"])
            }
        }
    }

    private func leastLoadedSlot() -> Int? {
        var best: Int?
        for slot in slots.indices where slots[slot].process != nil && slots[slot].load < configuration.concurrency {
            if best.map({ slots[slot].load < slots[$0].load }) ?? true { best = slot }
        }
        return best
    }

    private mutating func attemptResult(_ assignment: Assignment, _ result: FetchResult) -> AttemptResult {
        let now = WallClock.nowMillis()
        let retryAfter = result.headers.value(named: "retry-after")
        let responded = result.statusCode != nil
        let task = assignment.task
        let policy = configuration.retry.overridden(baseMillis: task.retryBaseMillis, maxMillis: task.retryMaxMillis)
        let disposition = policy.disposition(
            statusCode: result.statusCode, failure: result.failure?.kind, retryAfter: retryAfter,
            attempt: task.attempt, maxAttempts: task.maxAttempts, now: now, using: &random)
        // A host that says "too many requests" gets a pause: its other tasks wait, other hosts go on.
        if result.statusCode == 429 || result.statusCode == 503 {
            let asked = policy.retryAfterMillis(
                statusCode: result.statusCode, retryAfter: retryAfter, now: now)
            if let asked {
                hosts.pause(task.host, until: now + Int64(asked))
            } else if case .retry(let at) = disposition, result.statusCode == 429 {
                hosts.pause(task.host, until: at)
            }
        }
        let outcome = Outcome(
            statusCode: result.statusCode, headers: responded ? result.headers : nil,
            bodyBytes: responded ? result.body.count : nil, bodyTruncated: result.bodyTruncated,
            durationMillis: result.durationMillis, error: result.failure?.kind.rawValue,
            errorMessage: result.failure?.message)
        logger.debug(
            "attempt finished",
            metadata: [
                "task.id": "\(task.id)", "task.attempt": "\(task.attempt)",
                "http.status": "\(result.statusCode.map(String.init) ?? "-")",
                "task.error": "\(result.failure?.kind.rawValue ?? "-")", "task.next": "\(disposition)",
            ])
        return AttemptResult(
            seq: task.seq, attempt: task.attempt, outcome: outcome, disposition: disposition,
            body: responded
                ? StoredBody(contentType: result.headers.value(named: "content-type"), bytes: result.body) : nil,
            finishedAt: now)
    }

    private mutating func returnLostTasks() async {
        guard !lost.isEmpty else { return }
        do {
            try await store.returnLost(
                lost.map { ($0.seq, $0.attempt) }, error: "worker_lost",
                message: "the worker process running the task died", now: WallClock.nowMillis())
            lost.removeAll()
        } catch {
            logger.error("returning tasks of a dead worker failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Workers

    private mutating func launch(_ slot: Int) {
        slots[slot].generation += 1
        slots[slot].restartAt = nil
        let worker = WorkerRef(slot: slot, generation: slots[slot].generation)
        let inbox = self.inbox
        do {
            let process = try WorkerProcess.launch(
                executable: configuration.workerExecutable,
                arguments: [
                    "worker", "--concurrency", "\(configuration.concurrency)", "--user-agent", configuration.userAgent,
                    "--log-level", configuration.workerLogLevel,
                ] + configuration.destinations.arguments,
                name: "fetchq-worker-\(slot)",
                onReport: { report in inbox.post(.report(worker, report)) },
                onExit: { termination, error in inbox.post(.exited(worker, termination, error.map { "\($0)" })) })
            slots[slot].process = process
            slots[slot].startedAt = .now
            logger.info("worker started", metadata: ["worker.slot": "\(slot)", "worker.pid": "\(process.pid)"])
        } catch {
            logger.error("starting a worker failed", metadata: ["worker.slot": "\(slot)", "error": "\(error)"])
            slots[slot].quickDeaths += 1
            slots[slot].restartAt = .now + .seconds(1)
        }
    }

    private mutating func workerExited(_ worker: WorkerRef, _ termination: Termination, _ error: String?) {
        let held = inFlight.filter { $0.value.worker == worker }.map(\.key)
        let now = WallClock.nowMillis()
        for lease in held {
            if let assignment = inFlight.removeValue(forKey: lease) { hosts.finished(assignment.task.host, now: now) }
        }
        lost.append(contentsOf: held)
        slots[worker.slot].process = nil
        slots[worker.slot].load = 0
        guard drainDeadline == nil else { return }
        logger.warning(
            "worker died; restarting it",
            metadata: [
                "worker.slot": "\(worker.slot)", "worker.termination": "\(termination)",
                "worker.error": "\(error ?? "-")", "tasks.returned": "\(held.count)",
            ])
        scheduleRestart(worker.slot)
    }

    /// Restarts at once, or after a growing pause when the slot keeps dying young.
    private mutating func scheduleRestart(_ slot: Int) {
        let livedLong = ContinuousClock.now - slots[slot].startedAt > .seconds(5)
        slots[slot].quickDeaths = livedLong ? 0 : slots[slot].quickDeaths + 1
        let pause = Duration.milliseconds(min(5_000, 100 * (1 << min(slots[slot].quickDeaths, 6))))
        slots[slot].restartAt = slots[slot].quickDeaths <= 1 ? .now : .now + pause
        if slots[slot].quickDeaths <= 1 { launch(slot) }
    }

    /// On every tick: restart workers whose pause is over; kill a worker that holds a task long
    /// past its timeout (it is stuck; its exit returns the task to the queue).
    private mutating func housekeeping() {
        hosts.prune(now: WallClock.nowMillis())
        let now = ContinuousClock.now
        for slot in slots.indices where slots[slot].process == nil && drainDeadline == nil {
            if let restartAt = slots[slot].restartAt, restartAt <= now { launch(slot) }
        }
        for assignment in inFlight.values {
            let limit = Duration.milliseconds(assignment.task.timeoutMillis + configuration.leaseMarginMillis)
            if now - assignment.dispatchedAt > limit, let process = slots[assignment.worker.slot].process {
                logger.error(
                    "worker stuck past a lease; killing it",
                    metadata: ["worker.slot": "\(assignment.worker.slot)", "task.id": "\(assignment.task.id)"])
                process.kill()
            }
        }
    }

    /// Returns what is still in flight to the queue (the attempt does not count), then stops every
    /// worker: closing its pipe, and killing it if it has not exited a few seconds later.
    private mutating func stopWorkers() async {
        if !inFlight.isEmpty {
            let leases = inFlight.keys.map { ($0.seq, $0.attempt) }
            do {
                let returned = try await store.giveBack(leases, now: WallClock.nowMillis())
                logger.notice("returned in-flight tasks to the queue", metadata: ["tasks": "\(returned)"])
            } catch {
                logger.error("returning in-flight tasks failed", metadata: ["error": "\(error)"])
            }
            inFlight.removeAll()
        }
        for slot in slots.indices { slots[slot].process?.stop() }
        let killAt = ContinuousClock.now + .seconds(3)
        while slots.contains(where: { $0.process != nil }) {
            for event in await inbox.take() {
                if case .exited(let worker, _, _) = event, slots[worker.slot].generation == worker.generation {
                    slots[worker.slot].process = nil
                }
            }
            if ContinuousClock.now >= killAt {
                for slot in slots.indices { slots[slot].process?.kill() }
            }
        }
        logger.info(
            "engine stopped",
            metadata: [
                "engine.passes": "\(passes)", "tasks.recorded": "\(resultsRecorded)",
                "engine.results_per_pass": "\(passes == 0 ? 0 : resultsRecorded / passes)",
            ])
    }
}
