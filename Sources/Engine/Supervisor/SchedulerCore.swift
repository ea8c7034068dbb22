import Store

/// The scheduler's decisions without I/O: which worker gets which task, when to record and claim,
/// what happens when a worker dies or hangs, and how a shutdown drains. Events go in, actions come
/// out; `Scheduler` performs the actions (store calls, process launches and writes) and feeds their
/// outcomes back in as events. Every method takes the time it is called at; none reads a clock.
struct SchedulerCore {
    /// Where the engine is in its life. Only `running` claims work.
    enum Phase: Equatable {
        case running
        /// Shutdown began: nothing new is claimed; in-flight tasks may finish until the deadline.
        case draining(until: ContinuousClock.Instant)
        /// Every worker was told to stop; those still alive at `killAt` are killed.
        case stopping(killAt: ContinuousClock.Instant)
        /// Every worker has exited: the loop ends.
        case stopped
    }

    /// A task handed to a worker.
    struct Assignment {
        let worker: WorkerRef
        let task: ClaimedTask
        let dispatchedAt: ContinuousClock.Instant
    }

    /// One worker position: whether its process runs, how many tasks it holds, and its restart
    /// bookkeeping. The process itself belongs to `Scheduler`.
    struct Slot {
        var generation = 0
        var running = false
        var load = 0
        var startedAt: ContinuousClock.Instant?
        var restartAt: ContinuousClock.Instant?
        var quickDeaths = 0
        /// No orders ahead of its concurrency before this time (it handed some back unstarted).
        var aheadPausedUntil: ContinuousClock.Instant?
    }

    /// How long stopped workers get to exit before they are killed.
    static let stopTimeout = Duration.seconds(3)
    /// A worker that dies younger than this died young: its next restart may wait.
    static let quickDeathAge = Duration.seconds(5)
    /// The wait before retrying a launch that failed.
    static let launchRetryDelay = Duration.seconds(1)

    // The state below is changed only by this type's own methods (here and in its extension
    // files); it is not private so that those files can reach it, and tests can read it.
    let configuration: EngineConfiguration
    var phase = Phase.running
    var slots: [Slot]
    var inFlight: [LeaseKey: Assignment] = [:]
    var hosts: HostLimits
    /// Jobs' own per-host limits.
    var jobHosts = JobHostLimiter()
    /// Results not recorded yet, and leases of dead workers not returned yet.
    var unrecorded: [AttemptResult] = []
    var lost: [LeaseKey] = []
    /// Leases of orders that came back unstarted, not given back yet.
    var unstarted: [LeaseKey] = []
    /// Whether an event since the last pass may have made room for, or brought, new work.
    var wantsWork = false
    var random: JitterSource
    /// robots.txt, per origin, for the tasks that obey it.
    var robots: RobotsGate
    /// Leases of obeying tasks to give back until their origin's robots.txt is known.
    var held: [LeaseKey: Int64] = [:]

    init(configuration: EngineConfiguration) {
        self.configuration = configuration
        self.random = configuration.jitter
        self.robots = RobotsGate(policy: configuration.robots, userAgent: configuration.userAgent)
        self.slots = Array(repeating: Slot(), count: max(1, configuration.processes))
        self.hosts = HostLimits(
            concurrency: configuration.perHostConcurrency, intervalMillis: configuration.perHostIntervalMillis,
            adaptive: configuration.adaptivePerHost)
    }

    var isFinished: Bool { phase == .stopped }

    /// Tasks that running workers could still take: free fetch slots, and room in their queues.
    var capacity: Int {
        slots.indices.reduce(0) { $0 + max(0, room(of: $1)) }
    }

    /// Fetch slots free on running workers (what waiting work waits for, in the API's reads).
    var freeFetchSlots: Int {
        slots.reduce(0) { $0 + ($1.running ? max(0, configuration.concurrency - $1.load) : 0) }
    }

    /// Orders the slot's worker may still be sent: its concurrency, plus its queue unless paused.
    private func room(of slot: Int) -> Int {
        guard slots[slot].running else { return 0 }
        let paused = slots[slot].aheadPausedUntil != nil
        return configuration.concurrency + (paused ? 0 : configuration.ordersAhead) - slots[slot].load
    }

    /// Launches every slot; the first pass after it claims.
    mutating func start() -> [Action] {
        wantsWork = true
        return slots.indices.map { launch($0) }
    }

    /// Applies one event.
    mutating func handle(_ event: Event, now: EngineTime) -> [Action] {
        if case .stopping = phase { return handleWhileStopping(event) }
        guard phase != .stopped else { return [] }
        switch event {
        case .wake:
            wantsWork = true
            return []
        case .tick:
            wantsWork = true
            return housekeeping(now: now)
        case .result(let worker, let result):
            guard let assignment = release(result.lease, from: worker, now: now) else { return [] }
            let (attempt, note) = attemptResult(assignment.task, result, now: now.wallMillis)
            unrecorded.append(attempt)
            wantsWork = true
            return [.note(note)]
        case .unstarted(let worker, let lease):
            guard release(lease, from: worker, now: now) != nil else { return [] }
            unstarted.append(lease)
            if phase == .running {
                slots[worker.slot].aheadPausedUntil = now.instant + .milliseconds(configuration.aheadPauseMillis)
            }
            wantsWork = true
            return []
        case .exited(let worker, let termination, let error):
            guard slots[worker.slot].generation == worker.generation else { return [] }
            wantsWork = true
            return workerExited(worker, termination, error, now: now)
        case .abort(let seqs):
            let wanted = Set(seqs)
            return inFlight.filter { wanted.contains($0.key.seq) }.map { .cancel($0.key, on: $0.value.worker) }
        case .shutdown:
            guard phase == .running else { return [] }
            phase = .draining(until: now.instant + .milliseconds(configuration.shutdownGraceMillis))
            let handBacks = configuration.ordersAhead > 0 ? slots.indices.filter { slots[$0].running } : []
            return [.note(.draining(inFlight: inFlight.count, graceMillis: configuration.shutdownGraceMillis))]
                + handBacks.map { .handBack(worker($0)) }
        case .launched(let worker):
            guard slots[worker.slot].generation == worker.generation else { return [] }
            slots[worker.slot].running = true
            slots[worker.slot].startedAt = now.instant
            return []
        case .launchFailed(let worker):
            guard slots[worker.slot].generation == worker.generation else { return [] }
            slots[worker.slot].quickDeaths += 1
            slots[worker.slot].restartAt = now.instant + Self.launchRetryDelay
            return []
        case .claimed(let tasks):
            return dispatch(tasks, now: now)
        case .recordFailed(let results):
            unrecorded = results + unrecorded
            return []
        case .returnLostFailed(let leases):
            lost = leases + lost
            return []
        case .giveBackFailed(let leases):
            unstarted = leases + unstarted
            return []
        case .robotsFetched(let origin, let answer):
            robots.fetched(origin, answer, now: now.wallMillis)
            hosts.crawlDelays = robots.crawlDelays
            wantsWork = true
            return [.note(.robotsFetched(origin: origin, result: answer.result))]
        }
    }

    /// Ends a batch of events: returns dead workers' tasks, records results and, when something
    /// wanted work and the engine is not draining, claims as many tasks as workers can take, in one
    /// write. Ends the drain once nothing is in flight or the grace period is over.
    mutating func pass(now: EngineTime) -> [Action] {
        if case .stopping(let killAt) = phase { return stoppingPass(killAt: killAt, now: now) }
        guard phase != .stopped else { return [] }
        var actions: [Action] = []
        if !lost.isEmpty {
            actions.append(.returnLost(lost, now: now.wallMillis))
            lost = []
        }
        if !unstarted.isEmpty {
            actions.append(.giveBack(unstarted, now: now.wallMillis))
            unstarted = []
        }
        for (until, leases) in Dictionary(grouping: held, by: \.value) {
            actions.append(.holdBack(leases.map(\.key).sorted { $0.seq < $1.seq }, until: until, now: now.wallMillis))
        }
        held = [:]
        let limit = wantsWork && phase == .running ? max(0, capacity) : 0
        wantsWork = false
        if !unrecorded.isEmpty || limit > 0 {
            actions.append(
                .recordAndClaim(
                    RecordAndClaim(
                        results: unrecorded, limit: limit, hosts: allowance(now: now.wallMillis),
                        now: now.wallMillis)))
            unrecorded = []
        }
        if case .draining(let deadline) = phase, inFlight.isEmpty || now.instant >= deadline {
            actions += endDrain(now: now)
        }
        return actions
    }

    // MARK: Dispatch

    /// Hands claimed tasks out in the store's order, each to the least-loaded running worker.
    /// What each host may still take: the limits' view, with the hosts whose robots.txt is being
    /// fetched held back.
    private mutating func allowance(now: Int64) -> HostAllowance {
        var allowance = hosts.allowance(now: now)
        for host in robots.hostsBeingFetched.keys { allowance.remaining[host] = 0 }
        allowance.limitChanges = hosts.takeLimitChanges()
        jobHosts.constrain(&allowance, now: now)
        return allowance
    }

    private mutating func dispatch(_ tasks: [ClaimedTask], now: EngineTime) -> [Action] {
        var batches = [Dispatch?](repeating: nil, count: slots.count)
        var actions: [Action] = []
        for task in tasks {
            if RobotsGate.applies(to: task) {
                switch screen(task, now: now.wallMillis) {
                case .send: break
                case .held: continue
                case .refused(let note):
                    actions.append(.note(note))
                    continue
                }
            }
            // A job's first claim may take more of a host than its own limit allows (its limits
            // were not known yet): those go back, and later claims take no more than allowed.
            guard jobHosts.admits(task, now: now.wallMillis) else {
                held[LeaseKey(seq: task.seq, attempt: task.attempt)] = now.wallMillis
                wantsWork = true
                continue
            }
            guard let slot = leastLoadedSlot() else { break }
            let worker = WorkerRef(slot: slot, generation: slots[slot].generation)
            let lease = LeaseKey(seq: task.seq, attempt: task.attempt)
            slots[slot].load += 1
            hosts.started(task.host, now: now.wallMillis)
            jobHosts.started(task, now: now.wallMillis)
            inFlight[lease] = Assignment(worker: worker, task: task, dispatchedAt: now.instant)
            let order = FetchOrder(
                lease: lease, url: task.request.url, method: task.request.method,
                headers: task.request.headers, body: task.request.body,
                timeoutMillis: task.timeoutMillis, maxBodyBytes: configuration.maxBodyBytes,
                decodeContent: task.decodeContent)
            if batches[slot] == nil { batches[slot] = Dispatch(worker: worker) }
            batches[slot]?.append(.fetch(order), task: task.id)
        }
        let fetches = robots.takeFetches().map { Action.fetchRobots(origin: $0.origin, host: $0.host) }
        return fetches + actions + batches.compactMap { $0.map(Action.dispatch) }
    }

    /// Ends the lease's assignment if `worker` holds it: its slot and its host's place are free.
    /// Answers the assignment, or nil for a report from another worker or about a lease no longer out.
    private mutating func release(_ lease: LeaseKey, from worker: WorkerRef, now: EngineTime) -> Assignment? {
        guard let assignment = inFlight[lease], assignment.worker == worker else { return nil }
        inFlight[lease] = nil
        slots[worker.slot].load -= 1
        hosts.finished(assignment.task.host, now: now.wallMillis)
        jobHosts.finished(assignment.task, now: now.wallMillis)
        return assignment
    }

    private func leastLoadedSlot() -> Int? {
        var best: Int?
        for slot in slots.indices where room(of: slot) > 0 {
            if best.map({ slots[slot].load < slots[$0].load }) ?? true { best = slot }
        }
        return best
    }
}
