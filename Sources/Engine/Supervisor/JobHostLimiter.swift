import Store

/// Jobs' own politeness (`per_host_concurrency`, `per_host_interval_ms`): how many of a job's
/// requests each host has in flight, and when the job may next send it one. It learns a job's
/// limits from the first of its tasks claimed, and from then on tells every claim what each
/// job and host pair may still take (`HostAllowance.jobLimits`, `jobRemaining`). A plain value
/// owned by the scheduler.
struct JobHostLimiter {
    private struct Pair {
        var inFlight = 0
        var notBefore: Int64 = 0
    }

    /// The jobs with limits of their own seen, and when one of their tasks was last claimed.
    private var jobs: [Int64: (limits: JobHostLimits, seenAt: Int64)] = [:]
    private var pairs: [JobHostKey: Pair] = [:]

    /// How long a job is remembered after its last claimed task.
    static let memoryMillis: Int64 = 3_600_000

    /// Whether `task` may start now under its job's limits (always, for a job without any).
    func admits(_ task: ClaimedTask, now: Int64) -> Bool {
        guard let limits = task.jobHostLimits else { return true }
        guard let pair = pairs[JobHostKey(jobSeq: task.jobSeq, host: task.host)] else { return true }
        return now >= pair.notBefore && pair.inFlight < limits.inFlightLimit
    }

    mutating func started(_ task: ClaimedTask, now: Int64) {
        guard let limits = task.jobHostLimits else { return }
        jobs[task.jobSeq] = (limits, now)
        let key = JobHostKey(jobSeq: task.jobSeq, host: task.host)
        var pair = pairs[key] ?? Pair()
        pair.inFlight += 1
        if let interval = limits.intervalMillis, interval > 0 {
            pair.notBefore = max(pair.notBefore, now + Int64(interval))
        }
        pairs[key] = pair
    }

    mutating func finished(_ task: ClaimedTask, now: Int64) {
        guard task.jobHostLimits != nil else { return }
        let key = JobHostKey(jobSeq: task.jobSeq, host: task.host)
        guard var pair = pairs[key] else { return }
        pair.inFlight = max(0, pair.inFlight - 1)
        pairs[key] = pair.inFlight == 0 && pair.notBefore <= now ? nil : pair
    }

    /// Adds the jobs' limits and what each pair may still take to `allowance`.
    func constrain(_ allowance: inout HostAllowance, now: Int64) {
        guard !jobs.isEmpty else { return }
        allowance.jobLimits = jobs.mapValues(\.limits)
        for (key, pair) in pairs {
            guard let limits = jobs[key.jobSeq]?.limits else { continue }
            allowance.jobRemaining[key] = now < pair.notBefore ? 0 : max(0, limits.inFlightLimit - pair.inFlight)
        }
    }

    /// Forgets pairs with nothing in flight whose interval passed, and jobs not seen for an hour.
    mutating func prune(now: Int64) {
        pairs = pairs.filter { $0.value.inFlight > 0 || $0.value.notBefore > now }
        let active = Set(pairs.keys.map(\.jobSeq))
        jobs = jobs.filter { active.contains($0.key) || now - $0.value.seenAt < Self.memoryMillis }
    }
}
