import Foundation
import Store
import TestSupport
import Testing

/// Every state transition of a task on every engine: queued → running → succeeded / failed /
/// queued again; lost, given back, rescued; canceled; run again by hand.
@Suite struct TransitionConformanceTests {
    @Test(arguments: StoreEngine.allCases)
    func claimTakesHigherPriorityFirstThenSubmitOrder(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            var tasks = sampleTasks(5)
            tasks[3].priority = 10
            _ = try await store.submit(NewJob(tasks: tasks, timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 3, now: 2, leaseMarginMillis: 0)
            #expect(
                claimed.map(\.request.url).sorted() == [
                    "http://example.test/0", "http://example.test/1", "http://example.test/3",
                ])
            #expect(claimed.allSatisfy { $0.attempt == 1 })
            let next = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            #expect(next.map(\.request.url) == ["http://example.test/2"])
        }
    }

    /// One claim order on both engines (`ClaimRule.order`): a retried task keeps its place ahead of
    /// a task of equal priority submitted after it, even one that became due before the retry did.
    @Test(arguments: StoreEngine.allCases)
    func aRetriedTaskAndANewOneOfEqualPriorityComeOutInSubmitOrder(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let first = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.test/retried", attempts: 3)], timeoutMillis: 1_000), now: 1)
            let claimed = try #require(try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0).first)
            #expect(
                try await store.record([result(claimed, status: 503, .retry(at: 20), body: "busy", at: 10)]) == [true])
            let second = try await store.submit(
                NewJob(tasks: [sampleTask("http://b.test/new")], timeoutMillis: 1_000), now: 15)
            let next = try await store.claim(limit: 1, now: 30, leaseMarginMillis: 0)
            #expect(next.map(\.id) == first.taskIDs, "the retried task first")
            let after = try await store.claim(limit: 1, now: 30, leaseMarginMillis: 0)
            #expect(after.map(\.id) == second.taskIDs)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aClaimedTaskIsRunningUnderItsAttempt(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let submitted = try await store.submit(NewJob(tasks: sampleTasks(1), timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 5, now: 7, leaseMarginMillis: 0)
            #expect(claimed.map(\.id) == submitted.taskIDs)
            let task = try #require(try await store.task(submitted.taskIDs[0]))
            #expect(task.state == .running && task.attempts == 1 && task.startedAt == 7)
            #expect(try await store.job(submitted.id)?.counts.running == 1)
            #expect(try await store.claim(limit: 5, now: 8, leaseMarginMillis: 0).isEmpty, "claimed once")
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func concurrentClaimsNeverHandOutATaskTwice(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let submitted = try await store.submit(NewJob(tasks: sampleTasks(60), timeoutMillis: 1_000), now: 1)
            let claimed = try await withThrowingTaskGroup(of: [ClaimedTask].self) { group in
                for _ in 0..<12 {
                    group.addTask { try await store.claim(limit: 7, now: 2, leaseMarginMillis: 0) }
                }
                return try await group.reduce(into: [ClaimedTask]()) { $0 += $1 }
            }
            #expect(claimed.count == 60)
            #expect(Set(claimed.map(\.id)) == Set(submitted.taskIDs))
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func succeededAndFailedAreFinalAndCounted(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let submitted = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.test/"), sampleTask("http://b.test/")], timeoutMillis: 1_000),
                now: 1)
            let claimed = try await store.claim(limit: 2, now: 2, leaseMarginMillis: 0)
            #expect(try await store.job(submitted.id)?.counts.running == 2)
            let recorded = try await store.record([
                result(claimed[0], status: 200, .succeeded, body: "hello"),
                result(claimed[1], status: 404, .failed(.notRetryable), body: "nope"),
            ])
            #expect(recorded == [true, true])
            let job = try #require(try await store.job(submitted.id))
            #expect(job.state == .completed)
            #expect(job.counts.succeeded == 1 && job.counts.failed == 1)
            #expect(job.finishedAt == 4)
            let succeeded = try #require(try await store.task(claimed[0].id))
            #expect(succeeded.state == .succeeded && succeeded.failureReason == nil)
            #expect(succeeded.outcome?.statusCode == 200)
            #expect(succeeded.finishedAt == 4)
            let failed = try #require(try await store.task(claimed[1].id))
            #expect(failed.state == .failed && failed.failureReason == .notRetryable)
            #expect(failed.outcome?.statusCode == 404)
            guard case .body(let body, let truncated) = try await store.body(of: claimed[0].id) else {
                Issue.record("no body stored")
                return
            }
            #expect(body.bytes == Array("hello".utf8))
            #expect(body.contentType == "text/plain")
            #expect(!truncated)
            // Final: a second result for the same attempt changes nothing.
            #expect(
                try await store.record([result(claimed[0], status: 500, .failed(.notRetryable), body: "")]) == [false])
            #expect(try await store.task(claimed[0].id)?.state == .succeeded)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func retryReturnsTheTaskToTheQueueUntilItIsDue(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            _ = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.test/", attempts: 3)], timeoutMillis: 1_000), now: 1)
            let first = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            #expect(try await store.record([result(first[0], status: 503, .retry(at: 500), body: "busy")]) == [true])
            let task = try #require(try await store.task(first[0].id))
            #expect(task.state == .queued)
            #expect(task.nextAttemptAt == 500)
            #expect(task.attempts == 1)
            #expect(task.outcome?.statusCode == 503)
            #expect(try await store.claim(limit: 1, now: 499, leaseMarginMillis: 0).isEmpty)
            let second = try await store.claim(limit: 1, now: 500, leaseMarginMillis: 0)
            #expect(second.first?.attempt == 2)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func theAttemptsLogShowsEveryAttemptIncludingTheLast(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            _ = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.test/", attempts: 3)], timeoutMillis: 1_000), now: 1)
            let first = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            _ = try await store.record([result(first[0], status: 503, .retry(at: 3), body: "busy")])
            let second = try await store.claim(limit: 1, now: 3, leaseMarginMillis: 0)
            _ = try await store.record([result(second[0], status: 404, .failed(.notRetryable), body: "gone")])
            let failed = try #require(try await store.task(first[0].id))
            #expect(failed.attemptsLog.map(\.attempt) == [1, 2])
            #expect(failed.attemptsLog.map(\.statusCode) == [503, 404])
            // Run again by hand: the failed run's attempts stay in the log until new ones replace them.
            #expect(try await store.rerun(task: first[0].id, now: 4) == true)
            #expect(try await store.task(first[0].id)?.attemptsLog.map(\.statusCode) == [503, 404])
            let third = try await store.claim(limit: 1, now: 5, leaseMarginMillis: 0)
            #expect(third.first?.attempt == 1)
            _ = try await store.record([result(third[0], status: 200, .succeeded, body: "ok")])
            let succeeded = try #require(try await store.task(first[0].id))
            #expect(succeeded.attemptsLog.map(\.attempt) == [1, 2])
            #expect(succeeded.attemptsLog.map(\.statusCode) == [200, 404])
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func tasksNotYetDueDoNotHideOrReorderTheDueOnes(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            // 300 tasks for tomorrow, submitted first, so they sit in front in submit order.
            var later = sampleTasks(300, host: "later.test")
            for index in later.indices { later[index].notBefore = 86_400_000 }
            _ = try await store.submit(NewJob(tasks: later, timeoutMillis: 1_000), now: 1)
            #expect(try await store.claim(limit: 10, now: 2, leaseMarginMillis: 0).isEmpty)
            var due = sampleTasks(4, host: "due.test")
            due[2].priority = 5
            _ = try await store.submit(NewJob(tasks: due, timeoutMillis: 1_000), now: 3)
            // The highest priority first, then submit order.
            let first = try await store.claim(limit: 1, now: 4, leaseMarginMillis: 0)
            #expect(first.map(\.request.url) == ["http://due.test/2"])
            let rest = try await store.claim(limit: 10, now: 4, leaseMarginMillis: 0)
            #expect(rest.map(\.request.url) == ["http://due.test/0", "http://due.test/1", "http://due.test/3"])
            // Tomorrow, they are due too, behind nothing.
            let tomorrow = try await store.claim(limit: 500, now: 86_400_000, leaseMarginMillis: 0)
            #expect(tomorrow.count == 300)
            #expect(tomorrow.first?.request.url == "http://later.test/0")
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func onePassRecordsResultsThenClaimsTheNextTasks(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let submitted = try await store.submit(
                NewJob(tasks: sampleTasks(3, host: "a.test"), timeoutMillis: 1_000), now: 1)
            let first = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            let pass = try await store.recordAndClaim(
                [result(first[0], status: 200, .succeeded, body: "one")], limit: 5, now: 3, leaseMarginMillis: 0,
                hosts: HostAllowance())
            #expect(pass.recorded == [true])
            #expect(pass.claimed.map(\.request.url) == ["http://a.test/1", "http://a.test/2"])
            #expect(try await store.task(first[0].id)?.state == .succeeded)
            let job = try #require(try await store.job(submitted.id))
            #expect(job.counts.succeeded == 1 && job.counts.running == 2)
            // A result that is no longer current is ignored, and claiming still happens.
            let late = try await store.recordAndClaim(
                [result(first[0], status: 500, .failed(.notRetryable), body: "late")], limit: 5, now: 4,
                leaseMarginMillis: 0, hosts: HostAllowance())
            #expect(late.recorded == [false])
            #expect(late.claimed.isEmpty)
            #expect(try await store.task(first[0].id)?.state == .succeeded)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aResultForAnotherAttemptOrATaskNotRunningIsIgnored(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let submitted = try await store.submit(NewJob(tasks: sampleTasks(2), timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            let wrongAttempt = AttemptResult(
                seq: claimed[0].seq, attempt: 2, outcome: Outcome(statusCode: 200), disposition: .succeeded,
                body: nil, finishedAt: 3)
            #expect(try await store.record([wrongAttempt]) == [false])
            #expect(try await store.task(claimed[0].id)?.state == .running)
            // The other task was never claimed: a result for it is ignored too.
            let queued = try #require(try await store.task(submitted.taskIDs[1]))
            let last = try await store.lastTaskSeq(ofJob: claimed[0].jobSeq)
            let page = try await store.results(
                ofJob: claimed[0].jobSeq, state: .queued, after: 0, last: last, limit: 10, bodies: false)
            let queuedSeq = try #require(page.first?.seq)
            #expect(page.first?.id == queued.id)
            for attempt in [0, 1] {
                let stray = AttemptResult(
                    seq: queuedSeq, attempt: attempt, outcome: Outcome(statusCode: 200), disposition: .succeeded,
                    body: nil, finishedAt: 3)
                #expect(try await store.record([stray]) == [false])
            }
            #expect(try await store.task(queued.id)?.state == .queued)
            #expect(try await store.job(submitted.id)?.counts.queued == 1)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aStaleResultIsIgnored(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            _ = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.test/", attempts: 3)], timeoutMillis: 1_000), now: 1)
            let first = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            // The lease runs out; the task is rescued and handed out again.
            #expect(try await store.rescueExpired(now: 10_000, reason: "test") == 1)
            let second = try await store.claim(limit: 1, now: 10_001, leaseMarginMillis: 0)
            #expect(second.first?.attempt == 2)
            // The first attempt's late answer must not overwrite the second attempt.
            #expect(
                try await store.record([result(first[0], status: 500, .failed(.notRetryable), body: "late")]) == [false]
            )
            #expect(try await store.task(first[0].id)?.state == .running)
            #expect(try await store.record([result(second[0], status: 200, .succeeded, body: "ok")]) == [true])
            #expect(try await store.task(first[0].id)?.state == .succeeded)
            guard case .body(let body, _) = try await store.body(of: first[0].id) else {
                Issue.record("no body stored")
                return
            }
            #expect(body.bytes == Array("ok".utf8))
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func returningALostWorkersTasksCountsTheAttempt(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let submitted = try await store.submit(
                NewJob(
                    tasks: [sampleTask("http://a.test/", attempts: 2), sampleTask("http://b.test/", attempts: 1)],
                    timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 2, now: 2, leaseMarginMillis: 0)
            #expect(try await store.returnLost(leases(claimed), error: "worker_lost", message: "died", now: 3) == 2)
            let requeued = try #require(try await store.task(claimed[0].id))
            #expect(requeued.state == .queued && requeued.attempts == 1)
            #expect(requeued.outcome?.error == "worker_lost")
            #expect(requeued.attemptsLog.map(\.error) == ["worker_lost"])
            let lastChance = try #require(try await store.task(claimed[1].id))
            #expect(lastChance.state == .failed)
            #expect(lastChance.failureReason == .attemptsExhausted)
            #expect(lastChance.outcome?.error == "worker_lost")
            #expect(lastChance.outcome?.errorMessage == "died")
            #expect(lastChance.finishedAt == 3)
            // The same leases again: nothing runs under them any more.
            #expect(try await store.returnLost(leases(claimed), error: "worker_lost", message: "died", now: 4) == 0)
            let again = try await store.claim(limit: 2, now: 5, leaseMarginMillis: 0)
            #expect(again.map(\.id) == [claimed[0].id])
            #expect(again.first?.attempt == 2)
            #expect(try await store.returnLost(leases(claimed), error: "worker_lost", message: "died", now: 6) == 0)
            #expect(try await store.task(claimed[0].id)?.state == .running, "a stale lease moves nothing")
            #expect(try await store.job(submitted.id)?.counts.running == 1)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func givingTasksBackAtShutdownDoesNotCountTheAttempt(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            _ = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.test/", attempts: 1)], timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            #expect(try await store.giveBack(leases(claimed), now: 3) == 1)
            let task = try #require(try await store.task(claimed[0].id))
            #expect(task.state == .queued)
            #expect(task.attempts == 0)
            #expect(try await store.giveBack(leases(claimed), now: 4) == 0, "nothing runs under that lease")
            let again = try await store.claim(limit: 1, now: 5, leaseMarginMillis: 0)
            #expect(again.first?.attempt == 1, "its one attempt is still to come")
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func rescueReturnsOnlyTasksWhoseLeaseRanOut(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            var tasks = [sampleTask("http://a.test/", attempts: 3), sampleTask("http://b.test/", attempts: 3)]
            tasks[1].timeoutMillis = 5_000
            let submitted = try await store.submit(NewJob(tasks: tasks, timeoutMillis: 60_000), now: 1)
            // Leases run out at 2 + timeout + 500: 1,502 and 5,502.
            let claimed = try await store.claim(limit: 2, now: 2, leaseMarginMillis: 500)
            #expect(try await store.rescueExpired(now: 1_400, reason: "lease ran out") == 0, "within the margin")
            #expect(try await store.rescueExpired(now: 3_000, reason: "lease ran out") == 1)
            let rescued = try #require(try await store.task(submitted.taskIDs[0]))
            #expect(rescued.state == .queued && rescued.attempts == 1)
            #expect(rescued.outcome?.error == "lease_expired")
            #expect(rescued.outcome?.errorMessage == "lease ran out")
            #expect(try await store.task(submitted.taskIDs[1])?.state == .running, "its lease still holds")
            #expect(try await store.record([result(claimed[1], status: 200, .succeeded, body: "")]) == [true])
            let again = try await store.claim(limit: 2, now: 3_001, leaseMarginMillis: 0)
            #expect(again.map(\.id) == [submitted.taskIDs[0]])
            #expect(again.first?.attempt == 2)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aRescueOnTheLastAttemptFailsTheTask(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let submitted = try await store.submit(
                NewJob(tasks: sampleTasks(1), timeoutMillis: 1_000, callback: Callback(url: "http://receiver.test/")),
                now: 1)
            _ = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            #expect(try await store.rescueExpired(now: 5_000, reason: "lease ran out") == 1)
            let task = try #require(try await store.task(submitted.taskIDs[0]))
            #expect(task.state == .failed && task.failureReason == .attemptsExhausted)
            #expect(task.finishedAt == 5_000)
            let job = try #require(try await store.job(submitted.id))
            #expect(job.state == .completed && job.counts.failed == 1)
            let events = try await store.allDeliveries(of: submitted.id).map(\.eventType.rawValue)
            #expect(events.sorted() == ["job.finished", "task.finished"])
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aRescueAtStartUpReturnsEveryRunningTask(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            var tasks = sampleTasks(3, attempts: 2)
            tasks[2].timeoutMillis = 3_600_000
            let submitted = try await store.submit(NewJob(tasks: tasks, timeoutMillis: 1_000), now: 1)
            _ = try await store.claim(limit: 3, now: 2, leaseMarginMillis: 60_000)
            // No lease has run out: only the start-up rescue takes them back.
            #expect(try await store.rescueExpired(now: 6_000, reason: "lease ran out") == 0)
            #expect(try await store.rescueLeftRunning(now: 6_000, reason: "restarted") == 3)
            let job = try #require(try await store.job(submitted.id))
            #expect(job.counts.queued == 3 && job.counts.running == 0)
            #expect(try await store.allTasks(of: submitted.id).allSatisfy { $0.attempts == 1 })
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func cancelStopsQueuedAndRunningButLeavesFinalTasks(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let submitted = try await store.submit(NewJob(tasks: sampleTasks(3), timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 2, now: 2, leaseMarginMillis: 0)
            _ = try await store.record([result(claimed[0], status: 200, .succeeded, body: "")])
            let cancellation = try #require(try await store.cancel(job: submitted.id, now: 5))
            #expect(cancellation.canceled == 2)
            #expect(cancellation.running == [claimed[1].seq])
            let job = try #require(try await store.job(submitted.id))
            #expect(job.counts.succeeded == 1 && job.counts.canceled == 2)
            #expect(job.state == .completed && job.finishedAt == 5)
            let canceled = try #require(try await store.task(submitted.taskIDs[2]))
            #expect(canceled.state == .canceled && canceled.finishedAt == 5)
            // The running attempt's result arrives after the cancel: ignored.
            #expect(try await store.record([result(claimed[1], status: 200, .succeeded, body: "")]) == [false])
            #expect(try await store.task(claimed[1].id)?.state == .canceled)
            // Nothing left to cancel.
            #expect(try await store.cancel(job: submitted.id, now: 6)?.canceled == 0)
            #expect(try await store.cancel(job: try Unknown.job(), now: 6) == nil)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func cancelingOneTaskLeavesTheOthers(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let submitted = try await store.submit(NewJob(tasks: sampleTasks(3), timeoutMillis: 1_000), now: 1)
            let running = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            let queuedID = submitted.taskIDs[1]
            let queued = try #require(try await store.cancel(task: queuedID, now: 3))
            #expect(queued.canceled == 1 && queued.running.isEmpty)
            #expect(try await store.task(queuedID)?.state == .canceled)
            let stopped = try #require(try await store.cancel(task: running[0].id, now: 4))
            #expect(stopped.canceled == 1 && stopped.running == [running[0].seq])
            #expect(try await store.record([result(running[0], status: 200, .succeeded, body: "")]) == [false])
            #expect(try await store.task(running[0].id)?.state == .canceled)
            // A final task stays as it is.
            #expect(try await store.cancel(task: queuedID, now: 5)?.canceled == 0)
            #expect(try await store.cancel(task: try Unknown.task(), now: 5) == nil)
            let job = try #require(try await store.job(submitted.id))
            #expect(job.counts.canceled == 2 && job.counts.queued == 1 && job.state == .pending)
            #expect(try await store.claim(limit: 5, now: 6, leaseMarginMillis: 0).map(\.id) == [submitted.taskIDs[2]])
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func rerunQueuesAFailedOrCanceledTaskAgain(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let submitted = try await store.submit(NewJob(tasks: sampleTasks(4), timeoutMillis: 1_000), now: 1)
            let ids = submitted.taskIDs
            let claimed = try await store.claim(limit: 3, now: 2, leaseMarginMillis: 0)
            _ = try await store.record([
                result(claimed[0], status: 500, .failed(.notRetryable), body: ""),
                result(claimed[1], status: 200, .succeeded, body: ""),
            ])
            _ = try await store.cancel(task: ids[3], now: 5)
            // Running, succeeded: not run again. Unknown: nil.
            #expect(try await store.rerun(task: ids[2], now: 6) == false)
            #expect(try await store.rerun(task: ids[1], now: 6) == false)
            #expect(try await store.rerun(task: try Unknown.task(), now: 6) == nil)
            _ = try await store.record([result(claimed[2], status: 200, .succeeded, body: "")])
            let completed = try #require(try await store.job(submitted.id))
            #expect(completed.state == .completed && completed.finishedAt != nil)

            #expect(try await store.rerun(task: ids[0], now: 10) == true)
            #expect(try await store.rerun(task: ids[3], now: 10) == true)
            for id in [ids[0], ids[3]] {
                let task = try #require(try await store.task(id))
                #expect(task.state == .queued && task.attempts == 0 && task.failureReason == nil)
                #expect(task.finishedAt == nil && task.nextAttemptAt == 10)
            }
            #expect(try await store.rerun(task: ids[0], now: 11) == false, "queued now")
            let job = try #require(try await store.job(submitted.id))
            #expect(job.state == .pending && job.finishedAt == nil)
            #expect(job.counts.queued == 2 && job.counts.failed == 0 && job.counts.canceled == 0)
            let again = try await store.claim(limit: 5, now: 12, leaseMarginMillis: 0)
            #expect(again.map(\.id) == [ids[0], ids[3]])
            #expect(again.allSatisfy { $0.attempt == 1 })
            _ = try await store.record(again.map { result($0, status: 200, .succeeded, body: "", at: 13) })
            let finished = try #require(try await store.job(submitted.id))
            #expect(finished.state == .completed && finished.finishedAt == 13 && finished.counts.succeeded == 4)
        }
    }
}

/// Per-host allowance and host queues on every engine.
@Suite struct HostConformanceTests {
    @Test(arguments: StoreEngine.allCases)
    func claimKeepsWithinEachHostsAllowance(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let tasks = sampleTasks(5, host: "a.test") + sampleTasks(5, host: "b.test") + sampleTasks(5, host: "c.test")
            _ = try await store.submit(NewJob(tasks: tasks, timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(
                limit: 10, now: 2, leaseMarginMillis: 0,
                hosts: HostAllowance(defaultLimit: 2, remaining: ["a.test": 1, "c.test": 0]))
            #expect(
                claimed.map(\.request.url) == ["http://a.test/0", "http://b.test/0", "http://b.test/1"],
                "one of a, the default two of b, none of c, in submit order")
            let queues = try await store.hostQueues(now: 2)
            #expect(queues["a.test"]?.running == 1 && queues["a.test"]?.queuedDue == 4)
            #expect(queues["b.test"]?.running == 2 && queues["b.test"]?.queuedDue == 3)
            #expect(queues["c.test"]?.running == 0 && queues["c.test"]?.queuedDue == 5)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aHostWithNoAllowanceLeftDoesNotHideOtherHosts(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            // 300 tasks of a paused host in front of one of another host.
            let tasks = sampleTasks(300, host: "paused.test") + sampleTasks(1, host: "free.test")
            _ = try await store.submit(NewJob(tasks: tasks, timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(
                limit: 1, now: 2, leaseMarginMillis: 0, hosts: HostAllowance(remaining: ["paused.test": 0]))
            #expect(claimed.map(\.request.url) == ["http://free.test/0"])
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func hostQueuesCountRunningAndDueTasksPerHost(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            var later = sampleTasks(2, host: "later.test")
            later[1].notBefore = 1_000
            let tasks = sampleTasks(3, host: "a.test") + later + sampleTasks(1, host: "done.test")
            _ = try await store.submit(NewJob(tasks: tasks, timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(
                limit: 10, now: 2, leaseMarginMillis: 0,
                hosts: HostAllowance(defaultLimit: 0, remaining: ["a.test": 1, "done.test": 1]))
            let done = try #require(claimed.first { $0.host == "done.test" })
            _ = try await store.record([result(done, status: 200, .succeeded, body: "")])
            let queues = try await store.hostQueues(now: 500)
            #expect(Set(queues.keys) == ["a.test", "later.test"], "a host with nothing queued or running is left out")
            #expect(queues["a.test"]?.running == 1 && queues["a.test"]?.queuedDue == 2)
            #expect(queues["later.test"]?.running == 0 && queues["later.test"]?.queuedDue == 1)
            #expect(try await store.hostQueues(now: 1_000)["later.test"]?.queuedDue == 2)
        }
    }
}
