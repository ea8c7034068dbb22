import Store

/// Worker lifetimes: launches, deaths and restarts, stuck workers, and the stop at the end of a drain.
extension SchedulerCore {
    func worker(_ slot: Int) -> WorkerRef { WorkerRef(slot: slot, generation: slots[slot].generation) }

    /// A new generation for the slot, to be started by `Scheduler`.
    mutating func launch(_ slot: Int) -> Action {
        slots[slot].generation += 1
        slots[slot].restartAt = nil
        return .launch(worker(slot))
    }

    /// The worker's tasks become lost (returned on the next pass) and, unless the engine drains,
    /// the slot is restarted.
    mutating func workerExited(
        _ worker: WorkerRef, _ termination: Termination, _ error: String?, now: EngineTime
    ) -> [Action] {
        let held = inFlight.filter { $0.value.worker == worker }.keys.sorted { $0.seq < $1.seq }
        for lease in held {
            if let assignment = inFlight.removeValue(forKey: lease) {
                hosts.finished(assignment.task.host, now: now.wallMillis)
                jobHosts.finished(assignment.task, now: now.wallMillis)
            }
        }
        lost.append(contentsOf: held)
        slots[worker.slot].running = false
        slots[worker.slot].load = 0
        guard phase == .running else { return [] }
        let note = Action.note(.workerLost(worker, termination, error: error, tasksReturned: held.count))
        return [note] + scheduleRestart(worker.slot, now: now)
    }

    /// Restarts at once, or after a growing pause (up to 5 s) when the slot keeps dying young.
    private mutating func scheduleRestart(_ slot: Int, now: EngineTime) -> [Action] {
        let livedLong = slots[slot].startedAt.map { now.instant - $0 > Self.quickDeathAge } ?? false
        slots[slot].quickDeaths = livedLong ? 0 : slots[slot].quickDeaths + 1
        guard slots[slot].quickDeaths > 1 else { return [launch(slot)] }
        let pause = Duration.milliseconds(min(5_000, 100 * (1 << min(slots[slot].quickDeaths, 6))))
        slots[slot].restartAt = now.instant + pause
        return []
    }

    /// On every tick: forget idle hosts, restart workers whose pause is over, and kill a worker that
    /// holds a task long past its timeout (it is stuck; its exit returns the task to the queue).
    mutating func housekeeping(now: EngineTime) -> [Action] {
        hosts.prune(now: now.wallMillis)
        jobHosts.prune(now: now.wallMillis)
        for slot in slots.indices {
            if let until = slots[slot].aheadPausedUntil, until <= now.instant { slots[slot].aheadPausedUntil = nil }
        }
        var actions: [Action] = []
        if phase == .running {
            for slot in slots.indices where !slots[slot].running {
                if let restartAt = slots[slot].restartAt, restartAt <= now.instant { actions.append(launch(slot)) }
            }
        }
        var stuck = [[TaskID]](repeating: [], count: slots.count)
        for assignment in inFlight.values where slots[assignment.worker.slot].running {
            let limit = Duration.milliseconds(assignment.task.timeoutMillis + configuration.leaseMarginMillis)
            if now.instant - assignment.dispatchedAt > limit {
                stuck[assignment.worker.slot].append(assignment.task.id)
            }
        }
        for slot in slots.indices where !stuck[slot].isEmpty {
            actions.append(.kill(worker(slot), .stuck(stuck[slot])))
        }
        return actions
    }

    /// Returns what is still in flight (the attempt does not count) and stops every worker.
    mutating func endDrain(now: EngineTime) -> [Action] {
        var actions: [Action] = []
        if !inFlight.isEmpty {
            actions.append(.returnInFlight(inFlight.keys.sorted { $0.seq < $1.seq }, now: now.wallMillis))
            inFlight.removeAll()
        }
        for slot in slots.indices where slots[slot].running { actions.append(.stop(worker(slot))) }
        phase = slots.contains(where: \.running) ? .stopping(killAt: now.instant + Self.stopTimeout) : .stopped
        return actions
    }

    /// While stopping, only exits matter.
    mutating func handleWhileStopping(_ event: Event) -> [Action] {
        if case .exited(let worker, _, _) = event, slots[worker.slot].generation == worker.generation {
            slots[worker.slot].running = false
        }
        return []
    }

    /// Done once every worker has exited; past `killAt`, the ones left are killed (on every pass
    /// until they are gone).
    mutating func stoppingPass(killAt: ContinuousClock.Instant, now: EngineTime) -> [Action] {
        guard slots.contains(where: \.running) else {
            phase = .stopped
            return []
        }
        guard now.instant >= killAt else { return [] }
        return slots.indices.filter { slots[$0].running }.map { .kill(worker($0), .didNotStop) }
    }
}
