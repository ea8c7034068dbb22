import Testing

@testable import Engine
@testable import Store

/// A job's own limits in the engine: learned from its first claimed task, enforced per host for
/// that job only, with its interval between starts.
@Suite struct JobHostLimiterTests {
    private func task(_ seq: Int64, job: Int64 = 7, host: String = "a", limits: JobHostLimits?) -> ClaimedTask {
        ClaimedTask(
            seq: seq, id: TaskID(trusted: "task-\(seq)"), jobSeq: job, host: host,
            request: FetchRequest(url: "http://\(host)/\(seq)"), timeoutMillis: 1_000, attempt: 1, maxAttempts: 1,
            retryBaseMillis: nil, retryMaxMillis: nil, jobHostLimits: limits)
    }

    @Test func aJobsConcurrencyHoldsPerHostAndOnlyForIt() {
        var limiter = JobHostLimiter()
        let limits = JobHostLimits(concurrency: 2, intervalMillis: nil)
        limiter.started(task(1, limits: limits), now: 0)
        #expect(limiter.admits(task(2, limits: limits), now: 0))
        limiter.started(task(2, limits: limits), now: 0)
        #expect(!limiter.admits(task(3, limits: limits), now: 0))
        #expect(limiter.admits(task(4, host: "b", limits: limits), now: 0), "another host")
        #expect(limiter.admits(task(5, job: 8, limits: nil), now: 0), "another job")
        var allowance = HostAllowance()
        limiter.constrain(&allowance, now: 0)
        #expect(allowance.jobLimits == [7: limits])
        #expect(allowance.jobRemaining == [JobHostKey(jobSeq: 7, host: "a"): 0])
        limiter.finished(task(1, limits: limits), now: 5)
        #expect(limiter.admits(task(3, limits: limits), now: 5))
    }

    @Test func aJobsIntervalSpacesItsStartsToOneHost() {
        var limiter = JobHostLimiter()
        let limits = JobHostLimits(concurrency: nil, intervalMillis: 1_000)
        limiter.started(task(1, limits: limits), now: 0)
        limiter.finished(task(1, limits: limits), now: 10)
        #expect(!limiter.admits(task(2, limits: limits), now: 999))
        #expect(limiter.admits(task(2, limits: limits), now: 1_000))
        var allowance = HostAllowance()
        limiter.constrain(&allowance, now: 500)
        #expect(allowance.jobRemaining[JobHostKey(jobSeq: 7, host: "a")] == 0)
    }

    @Test func finishedJobsAreForgotten() {
        var limiter = JobHostLimiter()
        let limits = JobHostLimits(concurrency: 1, intervalMillis: nil)
        for job in 0..<300 {
            limiter.started(task(Int64(job), job: Int64(job), limits: limits), now: 0)
            limiter.finished(task(Int64(job), job: Int64(job), limits: limits), now: 1)
        }
        limiter.prune(now: JobHostLimiter.memoryMillis)
        var allowance = HostAllowance()
        limiter.constrain(&allowance, now: JobHostLimiter.memoryMillis)
        #expect(allowance.jobLimits.isEmpty)
    }

    @Test func theCoreSendsBackWhatAFirstClaimTookBeyondAJobsLimit() {
        var harness = CoreHarness(processes: 1, concurrency: 8, perHost: 8)
        _ = harness.start()
        let limits = JobHostLimits(concurrency: 1, intervalMillis: nil)
        let actions = harness.handle(
            .claimed([task(1, limits: limits), task(2, limits: limits), task(3, limits: nil)]))
        #expect(actions.compactMap(\.dispatch).flatMap(\.tasks).map(\.rawValue).sorted() == ["task-1", "task-3"])
        let pass = harness.pass()
        let heldBack = pass.compactMap { if case .holdBack(let leases, _, _) = $0 { leases.map(\.seq) } else { nil } }
        #expect(heldBack == [[2]])
        #expect(pass.recordAndClaim?.hosts.jobRemaining[JobHostKey(jobSeq: 7, host: "a")] == 0)
    }
}
