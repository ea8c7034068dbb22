import Foundation
import Store
import TestSupport
import Testing

/// A job's own politeness on every engine: its limits are stored, shown, handed down to appended
/// tasks and returned by the claim; a claim told a job's limits takes no more of its tasks per
/// host than it may, while other jobs' tasks to the same host go on.
@Suite struct JobPolitenessConformanceTests {
    @Test(arguments: StoreEngine.allCases)
    func aJobsLimitsAreStoredAndComeBackWithItsClaimedTasks(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let limits = JobHostLimits(concurrency: 2, intervalMillis: 50)
            var job = NewJob(tasks: sampleTasks(2), timeoutMillis: 1_000, open: true)
            job.hostLimits = limits
            let submitted = try await store.submit(job, now: 1)
            _ = try await store.append(sampleTasks(1, host: "other.test"), to: submitted.id, idempotency: nil, now: 2)
            #expect(try await store.job(submitted.id)?.hostLimits == limits)
            let claimed = try await store.claim(limit: 10, now: 3, leaseMarginMillis: 0)
            #expect(claimed.count == 3)
            #expect(claimed.allSatisfy { $0.jobHostLimits == limits }, "appended tasks follow the job")
            let plain = try await store.submit(NewJob(tasks: sampleTasks(1), timeoutMillis: 1_000), now: 4)
            #expect(try await store.job(plain.id)?.hostLimits == nil)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aClaimTakesNoMoreOfAJobsTasksPerHostThanItsLimit(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            var strict = NewJob(tasks: sampleTasks(10, host: "shared.test"), timeoutMillis: 1_000)
            strict.hostLimits = JobHostLimits(concurrency: 2, intervalMillis: nil)
            let limited = try await store.submit(strict, now: 1)
            _ = try await store.submit(
                NewJob(tasks: sampleTasks(10, host: "shared.test"), timeoutMillis: 1_000), now: 1)
            let first = try #require(try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0).first)
            #expect(first.jobHostLimits?.concurrency == 2)
            // The engine now knows the job's limits, and that one of its tasks runs on the host.
            var hosts = HostAllowance()
            hosts.jobLimits = [first.jobSeq: JobHostLimits(concurrency: 2, intervalMillis: nil)]
            hosts.jobRemaining = [JobHostKey(jobSeq: first.jobSeq, host: "shared.test"): 1]
            let claimed = try await store.claim(limit: 12, now: 3, leaseMarginMillis: 0, hosts: hosts)
            let ofLimited = try await store.allTasks(of: limited.id, state: .running)
            #expect(ofLimited.count == 2, "one more of the limited job")
            #expect(claimed.count == 11, "and ten of the other job's, to the same host")
        }
    }
}
