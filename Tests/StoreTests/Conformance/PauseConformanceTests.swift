import Foundation
import Store
import TestSupport
import Testing

/// Pausing and resuming jobs and hosts on every engine: what a pause holds back from claims, what
/// it lets through, and what ends it. Time is the `now` each verb is given.
@Suite struct PauseConformanceTests {
    @Test(arguments: StoreEngine.allCases)
    func aPausedJobsTasksAreHeldWhileOtherJobsRunAndResumeReleasesThem(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let paused = try await store.submit(NewJob(tasks: sampleTasks(3), timeoutMillis: 1_000), now: 1)
            let job = try #require(try await store.pause(job: paused.id, now: 2))
            #expect(job.isPaused && job.state == .pending)
            let other = try await store.submit(NewJob(tasks: sampleTasks(2), timeoutMillis: 1_000), now: 3)
            let claimed = try await store.claim(limit: 10, now: 4, leaseMarginMillis: 0)
            #expect(Set(claimed.map(\.id)) == Set(other.taskIDs), "only the other job's tasks")
            let held = try await store.allTasks(of: paused.id)
            #expect(held.allSatisfy { $0.state == .queued && $0.held })
            #expect(try await store.pause(job: paused.id, now: 5)?.isPaused == true, "pausing twice is no change")

            let resumed = try #require(try await store.resume(job: paused.id, now: 6))
            #expect(!resumed.isPaused)
            #expect(try await store.allTasks(of: paused.id).allSatisfy { !$0.held })
            let released = try await store.claim(limit: 10, now: 7, leaseMarginMillis: 0)
            #expect(Set(released.map(\.id)) == Set(paused.taskIDs))
            #expect(try await store.resume(job: paused.id, now: 8)?.isPaused == false, "resuming twice is no change")
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aResumedTaskStillWaitsForItsOwnTime(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            var task = sampleTask("http://example.test/later")
            task.notBefore = 100
            let job = try await store.submit(NewJob(tasks: [task], timeoutMillis: 1_000), now: 1)
            _ = try await store.pause(job: job.id, now: 2)
            #expect(try await store.claim(limit: 5, now: 150, leaseMarginMillis: 0).isEmpty, "held past its time")
            _ = try await store.resume(job: job.id, now: 160)
            #expect(try await store.claim(limit: 5, now: 170, leaseMarginMillis: 0).map(\.id) == job.taskIDs)

            var early = sampleTask("http://example.test/early")
            early.notBefore = 1_000
            let second = try await store.submit(NewJob(tasks: [early], timeoutMillis: 1_000), now: 200)
            _ = try await store.pause(job: second.id, now: 201)
            _ = try await store.resume(job: second.id, now: 202)
            #expect(try await store.claim(limit: 5, now: 500, leaseMarginMillis: 0).isEmpty, "not before its time")
            #expect(try await store.claim(limit: 5, now: 1_000, leaseMarginMillis: 0).map(\.id) == second.taskIDs)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func tasksAppendedToAPausedOpenJobAreHeld(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try #require(
                try await store.submit(
                    NewJob(tasks: sampleTasks(1), timeoutMillis: 1_000, open: true), idempotency: nil, now: 1
                ).created)
            _ = try await store.pause(job: job.id, now: 2)
            let appended = try #require(
                try await store.append(sampleTasks(2, host: "more.test"), to: job.id, idempotency: nil, now: 3).created)
            #expect(try await store.claim(limit: 10, now: 4, leaseMarginMillis: 0).isEmpty)
            for id in appended.taskIDs { #expect(try await store.task(id)?.held == true) }
            _ = try await store.resume(job: job.id, now: 5)
            #expect(try await store.claim(limit: 10, now: 6, leaseMarginMillis: 0).count == 3)
        }
    }

    /// A task that was running when its job was paused finishes; if it fails and is retried, it
    /// goes back to the queue held, and so does a lost attempt's task and a re-run one.
    @Test(arguments: StoreEngine.allCases)
    func tasksQueuedAgainWhileTheJobIsPausedAreHeld(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try await store.submit(
                NewJob(tasks: sampleTasks(3, attempts: 3), timeoutMillis: 1_000), now: 1)
            let running = try await store.claim(limit: 3, now: 2, leaseMarginMillis: 0)
            #expect(running.count == 3)
            _ = try await store.pause(job: job.id, now: 3)
            #expect(
                try await store.record([result(running[0], status: 503, .retry(at: 5), body: "busy", at: 4)]) == [true])
            #expect(
                try await store.returnLost(
                    [(seq: running[1].seq, attempt: running[1].attempt)], error: "worker_lost", message: "gone", now: 4)
                    == 1)
            #expect(
                try await store.record([result(running[2], status: 404, .failed(.notRetryable), body: "", at: 4)]) == [
                    true
                ])
            #expect(try await store.rerun(task: running[2].id, now: 5) == true)
            let tasks = try await store.allTasks(of: job.id)
            #expect(tasks.allSatisfy { $0.state == .queued && $0.held }, "\(tasks.map { ($0.state, $0.held) })")
            #expect(try await store.claim(limit: 10, now: 100, leaseMarginMillis: 0).isEmpty)
            _ = try await store.resume(job: job.id, now: 101)
            #expect(try await store.claim(limit: 10, now: 102, leaseMarginMillis: 0).count == 3)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aPausedJobCanBeCanceledAndACompletedJobCannotBePaused(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try await store.submit(NewJob(tasks: sampleTasks(2), timeoutMillis: 1_000), now: 1)
            _ = try await store.pause(job: job.id, now: 2)
            #expect(try await store.cancel(job: job.id, now: 3)?.canceled == 2)
            #expect(try await store.job(job.id)?.state == .completed)
            for verb in [true, false] {
                do {
                    _ = verb ? try await store.pause(job: job.id, now: 4) : try await store.resume(job: job.id, now: 4)
                    Issue.record("a completed job was \(verb ? "paused" : "resumed")")
                } catch let error as StoreError {
                    #expect(error.code == .conflict)
                }
            }
            #expect(try await store.pause(job: try Unknown.job(), now: 5) == nil)
            #expect(try await store.resume(job: try Unknown.job(), now: 5) == nil)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aHostPauseHoldsThatHostsTasksOnlyUntilItEnds(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let slow = try await store.submit(
                NewJob(tasks: sampleTasks(2, host: "slow.test"), timeoutMillis: 1_000), now: 1)
            let fast = try await store.submit(
                NewJob(tasks: sampleTasks(2, host: "fast.test"), timeoutMillis: 1_000), now: 1)
            try await store.pause(host: "slow.test", until: 1_000, now: 2)
            #expect(try await store.hostPauses(now: 3) == ["slow.test": 1_000])
            let claimed = try await store.claim(limit: 10, now: 3, leaseMarginMillis: 0)
            #expect(Set(claimed.map(\.id)) == Set(fast.taskIDs))
            #expect(try await store.claim(limit: 10, now: 999, leaseMarginMillis: 0).isEmpty)
            #expect(try await store.hostPauses(now: 1_000).isEmpty, "over at its end")
            #expect(
                Set(try await store.claim(limit: 10, now: 1_000, leaseMarginMillis: 0).map(\.id)) == Set(slow.taskIDs))
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func resumingAHostEndsItsPauseAtOnce(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try await store.submit(
                NewJob(tasks: sampleTasks(1, host: "slow.test"), timeoutMillis: 1_000), now: 1)
            try await store.pause(host: "slow.test", until: 500, now: 2)
            try await store.pause(host: "slow.test", until: 10_000, now: 3)
            #expect(try await store.hostPauses(now: 4) == ["slow.test": 10_000], "the later pause replaces the first")
            #expect(try await store.claim(limit: 10, now: 600, leaseMarginMillis: 0).isEmpty)
            try await store.resume(host: "slow.test")
            try await store.resume(host: "slow.test")
            #expect(try await store.hostPauses(now: 601).isEmpty)
            #expect(try await store.claim(limit: 10, now: 601, leaseMarginMillis: 0).map(\.id) == job.taskIDs)
        }
    }
}
