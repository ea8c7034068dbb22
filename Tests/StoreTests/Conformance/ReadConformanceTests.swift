import Foundation
import Store
import TestSupport
import Testing

/// Cursors on every engine: pages cover every row once, in order.
@Suite struct CursorConformanceTests {
    @Test(arguments: StoreEngine.allCases)
    func taskPagesWalkEveryTaskOnceInSubmitOrder(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let submitted = try await store.submit(NewJob(tasks: sampleTasks(25), timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 25, now: 2, leaseMarginMillis: 0)
            let even = claimed.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            _ = try await store.record(even.map { result($0, status: 200, .succeeded, body: "") })
            for (state, limit, expected) in [
                (TaskState?.none, 10, submitted.taskIDs), (.succeeded, 3, even.map(\.id)),
                (.running, 4, claimed.filter { !even.map(\.id).contains($0.id) }.map(\.id)), (.queued, 5, []),
            ] {
                var seen: [TaskID] = []
                var cursor: String?
                var pages = 0
                repeat {
                    let page = try #require(
                        try await store.tasks(of: submitted.id, state: state, cursor: cursor, limit: limit))
                    #expect(page.tasks.count <= limit)
                    #expect(page.tasks.allSatisfy { state == nil || $0.state == state })
                    seen += page.tasks.map(\.id)
                    cursor = page.nextCursor
                    pages += 1
                } while cursor != nil && pages < 100
                #expect(seen == expected, "state \(String(describing: state))")
            }
            let error = await #expect(throws: StoreError.self) {
                try await store.tasks(of: submitted.id, state: nil, cursor: "not-a-cursor", limit: 10)
            }
            #expect(error?.code == .invalidCursor)
            #expect(try await store.tasks(of: try Unknown.job(), state: nil, cursor: nil, limit: 10) == nil)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func jobPagesWalkEveryJobOnceNewestFirst(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            var jobs: [SubmittedJob] = []
            for index in 0..<7 {
                jobs.append(
                    try await store.submit(
                        NewJob(tasks: [sampleTask("http://job\(index).test/")], timeoutMillis: 1_000),
                        now: Int64(10 + index)))
            }
            let claimed = try await store.claim(limit: 7, now: 20, leaseMarginMillis: 0)
            let finished = claimed.filter { ["job1.test", "job4.test"].contains($0.host) }
            _ = try await store.record(finished.map { result($0, status: 200, .succeeded, body: "") })
            let newestFirst = jobs.reversed().map(\.id)
            for (state, limit, expected) in [
                (JobState?.none, 3, newestFirst), (.completed, 1, [jobs[4].id, jobs[1].id]),
                (.pending, 2, newestFirst.filter { $0 != jobs[4].id && $0 != jobs[1].id }),
            ] {
                var seen: [JobID] = []
                var cursor: String?
                var pages = 0
                repeat {
                    let page = try await store.jobs(state: state, cursor: cursor, limit: limit)
                    #expect(page.jobs.count <= limit)
                    #expect(page.jobs.allSatisfy { state == nil || $0.state == state })
                    seen += page.jobs.map(\.id)
                    cursor = page.nextCursor
                    pages += 1
                } while cursor != nil && pages < 100
                #expect(seen == expected, "state \(String(describing: state))")
            }
            let error = await #expect(throws: StoreError.self) {
                try await store.jobs(state: nil, cursor: "not-a-cursor", limit: 10)
            }
            #expect(error?.code == .invalidCursor)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func anOpenJobIsListedAsPendingUntilSealed(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let open = try await store.submit(NewJob(tasks: sampleTasks(1), timeoutMillis: 1_000, open: true), now: 1)
            _ = try await store.finishAll(now: 2)
            let empty = try await store.submit(NewJob(tasks: [], timeoutMillis: 1_000, open: true), now: 3)
            // Its state is `pending` (JobRecord.state), and the filter says the same.
            #expect(try await store.job(open.id)?.state == .pending)
            let pending = try await store.jobs(state: .pending, cursor: nil, limit: 10).jobs.map(\.id)
            #expect(pending == [empty.id, open.id])
            #expect(try await store.jobs(state: .completed, cursor: nil, limit: 10).jobs.isEmpty)
            _ = try await store.seal(job: open.id, now: 4)
            #expect(try await store.jobs(state: .completed, cursor: nil, limit: 10).jobs.map(\.id) == [open.id])
            #expect(try await store.jobs(state: .pending, cursor: nil, limit: 10).jobs.map(\.id) == [empty.id])
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func deliveryPagesWalkEveryDeliveryOnceOldestFirst(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try await store.submit(
                NewJob(tasks: sampleTasks(5), timeoutMillis: 1_000, callback: Callback(url: "http://receiver.test/")),
                now: 1)
            for now in Int64(2)...6 {
                let claimed = try await store.claim(limit: 1, now: now, leaseMarginMillis: 0)
                _ = try await store.record(claimed.map { result($0, status: 200, .succeeded, body: "", at: now) })
            }
            var seen: [DeliveryRecord] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try #require(try await store.deliveries(of: job.id, cursor: cursor, limit: 2))
                #expect(page.deliveries.count <= 2)
                seen += page.deliveries
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 100
            #expect(seen.count == 6)
            #expect(Set(seen.map(\.id)).count == 6)
            #expect(seen.map(\.createdAt) == seen.map(\.createdAt).sorted())
            #expect(seen.prefix(4).map(\.taskID) == job.taskIDs.prefix(4).map { Optional($0) })
            let error = await #expect(throws: StoreError.self) {
                try await store.deliveries(of: job.id, cursor: "not-a-cursor", limit: 2)
            }
            #expect(error?.code == .invalidCursor)
        }
    }
}

/// Reads on every engine: totals, bodies, results export, waiting for a job.
@Suite struct ReadConformanceTests {
    @Test(arguments: StoreEngine.allCases)
    func aNewStoreIsEmptyAndHealthy(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            #expect(store.health == .ok)
            #expect(try await store.totals() == StateCounts())
            #expect(try await store.jobs(state: nil, cursor: nil, limit: 10).jobs.isEmpty)
            #expect(try await store.job(try Unknown.job()) == nil)
            #expect(try await store.task(try Unknown.task()) == nil)
            #expect(try await store.jobSeq(try Unknown.job()) == nil)
            #expect(try await store.hostQueues(now: 1).isEmpty)
            guard case .noTask = try await store.body(of: try Unknown.task()) else {
                Issue.record("a body for an unknown task")
                return
            }
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func totalsCountEveryTaskAcrossJobs(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            _ = try await store.submit(NewJob(tasks: sampleTasks(4, host: "a.test"), timeoutMillis: 1_000), now: 1)
            let second = try await store.submit(
                NewJob(tasks: sampleTasks(3, host: "b.test"), timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(
                limit: 3, now: 2, leaseMarginMillis: 0, hosts: HostAllowance(remaining: ["b.test": 0]))
            _ = try await store.record([
                result(claimed[0], status: 200, .succeeded, body: ""),
                result(claimed[1], status: 404, .failed(.notRetryable), body: ""),
            ])
            _ = try await store.cancel(job: second.id, now: 5)
            var expected = StateCounts()
            expected.queued = 1
            expected.running = 1
            expected.succeeded = 1
            expected.failed = 1
            expected.canceled = 3
            #expect(try await store.totals() == expected)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aTasksBodyIsTheLastAttemptsResponse(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let submitted = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.test/", attempts: 3)], timeoutMillis: 1_000), now: 1)
            let id = submitted.taskIDs[0]
            guard case .noBody = try await store.body(of: id) else {
                Issue.record("a body before any attempt")
                return
            }
            let first = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            let truncated = AttemptResult(
                seq: first[0].seq, attempt: first[0].attempt,
                outcome: Outcome(statusCode: 503, bodyBytes: 10_000, bodyTruncated: true), disposition: .retry(at: 3),
                body: StoredBody(contentType: "application/json", bytes: Array("{\"busy\":".utf8)), finishedAt: 3)
            _ = try await store.record([truncated])
            guard case .body(let body, let isTruncated) = try await store.body(of: id) else {
                Issue.record("no body after the first attempt")
                return
            }
            #expect(body.bytes == Array("{\"busy\":".utf8) && body.contentType == "application/json" && isTruncated)
            // An attempt without a response leaves no body, not the body of the attempt before.
            let second = try await store.claim(limit: 1, now: 3, leaseMarginMillis: 0)
            let noResponse = AttemptResult(
                seq: second[0].seq, attempt: second[0].attempt,
                outcome: Outcome(error: "timeout", errorMessage: "no answer"), disposition: .retry(at: 4), body: nil,
                finishedAt: 4)
            _ = try await store.record([noResponse])
            guard case .noBody = try await store.body(of: id) else {
                Issue.record("the first attempt's body outlived the second attempt")
                return
            }
            #expect(try await store.task(id)?.outcome?.error == "timeout")
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func resultsArePagedInSubmitOrderWithinTheJob(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try await store.submit(
                NewJob(tasks: sampleTasks(7, host: "a.test"), timeoutMillis: 1_000), now: 1)
            let other = try await store.submit(
                NewJob(tasks: sampleTasks(3, host: "b.test"), timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(
                limit: 10, now: 2, leaseMarginMillis: 0, hosts: HostAllowance(remaining: ["b.test": 0]))
            let finished = claimed.filter { [1, 2, 5].contains(job.taskIDs.firstIndex(of: $0.id) ?? -1) }
            _ = try await store.record(finished.map { result($0, status: 200, .succeeded, body: "body of \($0.id)") })
            let seq = try #require(try await store.jobSeq(job.id))
            let last = try await store.lastTaskSeq(ofJob: seq)
            for (state, bodies, expected) in [
                (TaskState?.none, false, job.taskIDs), (.succeeded, true, finished.map(\.id)),
                (.running, true, claimed.filter { !finished.map(\.id).contains($0.id) }.map(\.id)),
            ] {
                var lines: [ResultLine] = []
                var after: Int64 = 0
                var pages = 0
                while pages < 100 {
                    let page = try await store.results(
                        ofJob: seq, state: state, after: after, last: last, limit: 3, bodies: bodies)
                    lines += page
                    pages += 1
                    guard page.count == 3, let next = page.last?.seq else { break }
                    after = next
                }
                #expect(lines.map(\.id) == expected, "state \(String(describing: state))")
                #expect(lines.map(\.seq) == lines.map(\.seq).sorted())
                for line in lines {
                    let body = line.state == .succeeded && bodies ? Array("body of \(line.id)".utf8) : nil
                    #expect(line.body == body)
                }
            }
            let line = try #require(
                try await store.results(ofJob: seq, state: .succeeded, after: 0, last: last, limit: 1, bodies: false)
                    .first)
            #expect(line.url == "http://a.test/1" && line.method == "GET" && line.attempts == 1)
            #expect(line.statusCode == 200 && line.bodyBytes == "body of \(line.id)".utf8.count && !line.bodyTruncated)
            #expect(line.finishedAt == 4 && line.error == nil)
            // The other job's tasks come after `last`: not in this job's export.
            let otherSeq = try #require(try await store.jobSeq(other.id))
            #expect(try await store.lastTaskSeq(ofJob: otherSeq) > last)
            let empty = try await store.submit(NewJob(tasks: [], timeoutMillis: 1_000, open: true), now: 1)
            let emptySeq = try #require(try await store.jobSeq(empty.id))
            #expect(try await store.lastTaskSeq(ofJob: emptySeq) == 0)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func waitingForAJobEndsWhenItCompletes(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try await store.submit(NewJob(tasks: sampleTasks(2), timeoutMillis: 1_000), now: 1)
            let started = ContinuousClock.now
            async let waited = store.job(job.id, waitingUpTo: .seconds(60))
            _ = try await store.finishAll(now: 2)
            #expect(try await waited?.state == .completed)
            #expect(ContinuousClock.now - started < .seconds(30), "woken by the change, not the deadline")
            #expect(try await store.job(try Unknown.job(), waitingUpTo: .seconds(5)) == nil)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func waitingForAJobEndsAtTheDeadlineWhenItDoesNotComplete(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try await store.submit(NewJob(tasks: sampleTasks(1), timeoutMillis: 1_000), now: 1)
            let started = ContinuousClock.now
            let read = try await store.job(job.id, waitingUpTo: .milliseconds(300))
            #expect(read?.state == .pending)
            #expect(ContinuousClock.now - started >= .milliseconds(300))
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aCanceledWaitForAJobReturnsAtOnce(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try await store.submit(NewJob(tasks: sampleTasks(1), timeoutMillis: 1_000), now: 1)
            let started = ContinuousClock.now
            let waiter = Task { try await store.job(job.id, waitingUpTo: .seconds(600)) }
            waiter.cancel()
            #expect(try await waiter.value?.state == .pending)
            // Far from the 600 s it was asked to wait, with room for a sanitizer on a busy machine.
            #expect(ContinuousClock.now - started < .seconds(60), "a canceled wait neither waits nor spins")
        }
    }
}

/// Deleting jobs on every engine: by hand, and the retention sweep.
@Suite struct RetentionConformanceTests {
    @Test(arguments: StoreEngine.allCases)
    func deletingAJobTakesOnlyAFinishedOne(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let kept = try await store.submit(
                NewJob(tasks: sampleTasks(2, host: "kept.test"), timeoutMillis: 1_000), now: 1)
            #expect(try await store.delete(job: kept.id) == .pending)
            let done = try await store.submit(
                NewJob(tasks: sampleTasks(3), timeoutMillis: 1_000, callback: Callback(url: "http://receiver.test/")),
                now: 2)
            let claimed = try await store.claim(
                limit: 10, now: 3, leaseMarginMillis: 0, hosts: HostAllowance(remaining: ["kept.test": 0]))
            _ = try await store.record(claimed.map { result($0, status: 200, .succeeded, body: "x") })
            // Completed: deleted now, with its webhooks not yet sent (openapi.yaml, DELETE /v1/jobs/{id}).
            #expect(try await store.delete(job: done.id) == .deleted)
            #expect(try await store.job(done.id) == nil)
            #expect(try await store.task(done.taskIDs[0]) == nil)
            #expect(try await store.deliveries(of: done.id, cursor: nil, limit: 10) == nil)
            guard case .noTask = try await store.body(of: done.taskIDs[0]) else {
                Issue.record("a deleted task's body is still there")
                return
            }
            #expect(try await store.delete(job: done.id) == .noJob)
            #expect(try await store.totals().total == 2)
            #expect(try await store.jobs(state: nil, cursor: nil, limit: 10).jobs.map(\.id) == [kept.id])
            #expect(try await store.claimDeliveries(limit: 10, now: 1_000, leaseMillis: 1_000).isEmpty)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func theSweepDeletesJobsFinishedBeforeTheCutoffOnly(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let old = try await store.submit(
                NewJob(tasks: sampleTasks(5, host: "old.test"), timeoutMillis: 1_000), now: 1)
            let unsent = try await store.submit(
                NewJob(
                    tasks: sampleTasks(1, host: "unsent.test"), timeoutMillis: 1_000,
                    callback: Callback(url: "http://receiver.test/")),
                now: 1)
            _ = try await store.finishAll(now: 100)
            let recent = try await store.submit(
                NewJob(tasks: sampleTasks(2, host: "recent.test"), timeoutMillis: 1_000), now: 200)
            _ = try await store.finishAll(now: 5_000)
            let pending = try await store.submit(
                NewJob(tasks: sampleTasks(2, host: "pending.test"), timeoutMillis: 1_000), now: 300)

            var steps: [Int] = []
            repeat {
                steps.append(try await store.deleteExpired(finishedBefore: 1_000, limit: 2))
            } while steps.last != 0 && steps.count < 50
            #expect((steps.first ?? 0) > 0)
            #expect(steps.last == 0, "the sweep ends")
            #expect(try await store.job(old.id) == nil)
            #expect(try await store.task(old.taskIDs[4]) == nil)
            #expect(try await store.job(recent.id) != nil, "finished after the cutoff")
            #expect(try await store.job(pending.id) != nil, "not finished")
            #expect(try await store.job(unsent.id) != nil, "its webhooks are still to send")

            // Once its webhooks are sent, the job goes with the next sweep.
            let work = try await store.claimDeliveries(limit: 10, now: 6_000, leaseMillis: 1_000)
            #expect(work.count == 2)
            try await store.recordDeliveries(work.map { deliveryResult($0, .delivered, status: 200, at: 6_001) })
            var more = 0
            while try await store.deleteExpired(finishedBefore: 1_000, limit: 2) > 0, more < 50 { more += 1 }
            #expect(more > 0)
            #expect(try await store.job(unsent.id) == nil)
            #expect(try await store.totals().total == 4)
        }
    }
}
