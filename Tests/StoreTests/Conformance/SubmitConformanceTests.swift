import Foundation
import Store
import TestSupport
import Testing

/// Submitting and appending, on every engine: stored whole, in order, or not at all.
@Suite struct SubmitConformanceTests {
    @Test(arguments: StoreEngine.allCases)
    func submitStoresEveryTaskQueuedInOrder(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let submitted = try await store.submit(NewJob(tasks: sampleTasks(250), timeoutMillis: 5_000), now: 1_000)
            #expect(submitted.taskIDs.count == 250)
            #expect(submitted.taskIDs.map(\.rawValue) == submitted.taskIDs.map(\.rawValue).sorted())
            #expect(submitted.createdAt == 1_000)
            let record = try #require(try await store.job(submitted.id))
            #expect(record.counts.queued == 250)
            #expect(record.taskCount == 250)
            #expect(record.state == .pending)
            #expect(record.finishedAt == nil)
            let page = try #require(try await store.tasks(of: submitted.id, state: nil, cursor: nil, limit: 1_000))
            #expect(page.tasks.map(\.request.url) == (0..<250).map { "http://example.test/\($0)" })
            #expect(page.tasks.allSatisfy { $0.state == .queued && $0.attempts == 0 && $0.jobID == submitted.id })
            #expect(page.nextCursor == nil)
        }
    }

    @Test(arguments: StoreEngine.allCases, [1, 3, 4, 17, 64, 65, 129])
    func everyTaskIsStoredInOrderWhateverTheJobSize(engine: StoreEngine, size: Int) async throws {
        try await withStore(engine) { store in
            let urls = (0..<size).map { "http://example.test/\($0)" }
            let submitted = try await store.submit(
                NewJob(tasks: urls.map { sampleTask($0) }, timeoutMillis: 1_000), now: 1)
            let tasks = try await store.allTasks(of: submitted.id)
            #expect(tasks.map(\.request.url) == urls)
            #expect(tasks.map(\.id) == submitted.taskIDs)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aTaskReadsBackAndIsClaimedAsSubmitted(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let task = NewTask(
                request: FetchRequest(
                    url: "http://a.test:8080/path?q=1", method: "POST", headers: [HeaderField("X-A", "1")],
                    body: [0, 1, 2, 255]),
                host: "a.test:8080", timeoutMillis: 2_500, maxAttempts: 4, priority: 7, notBefore: 50,
                retryBaseMillis: 100, retryMaxMillis: 900)
            let submitted = try await store.submit(
                NewJob(
                    tasks: [task], timeoutMillis: 60_000,
                    callback: Callback(url: "http://receiver.test/hook", events: [.jobFinished], secret: "whsec_x")),
                now: 10)
            let job = try #require(try await store.job(submitted.id))
            #expect(job.callbackURL == "http://receiver.test/hook")
            #expect(job.callbackEvents == [.jobFinished])
            #expect(job.timeoutMillis == 60_000)
            #expect(job.createdAt == 10)
            #expect(!job.isOpen)
            let stored = try #require(try await store.task(submitted.taskIDs[0]))
            #expect(stored.request == task.request)
            #expect(stored.host == "a.test:8080")
            #expect(stored.timeoutMillis == 2_500 && stored.maxAttempts == 4 && stored.priority == 7)
            #expect(stored.nextAttemptAt == 50)
            #expect(stored.createdAt == 10)
            #expect(stored.outcome == nil && stored.startedAt == nil && stored.finishedAt == nil)
            #expect(try await store.claim(limit: 1, now: 49, leaseMarginMillis: 0).isEmpty, "not before 50")
            let claimed = try #require(try await store.claim(limit: 1, now: 50, leaseMarginMillis: 0).first)
            #expect(claimed.id == submitted.taskIDs[0])
            #expect(claimed.request == task.request)
            #expect(claimed.host == "a.test:8080")
            #expect(claimed.timeoutMillis == 2_500 && claimed.maxAttempts == 4 && claimed.attempt == 1)
            #expect(claimed.retryBaseMillis == 100 && claimed.retryMaxMillis == 900)
            #expect(claimed.dueAt == 50)
            #expect(try await store.jobSeq(submitted.id) == claimed.jobSeq)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aBatchWithOneInvalidTaskStoresNothing(engine: StoreEngine) async throws {
        try await withStore(engine) { (store: any QueueStore) async throws in
            var tasks = sampleTasks(100)
            tasks[73].timeoutMillis = 0  // violates the schema's CHECK, deep inside the batch
            await #expect(throws: (any Error).self) {
                try await store.submit(NewJob(tasks: tasks, timeoutMillis: 5_000), now: 1_000)
            }
            #expect(try await store.totals().total == 0)
            #expect(try await store.jobs(state: nil, cursor: nil, limit: 10).jobs.isEmpty)
            #expect(try await store.claim(limit: 1_000, now: 2_000, leaseMarginMillis: 0).isEmpty)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func concurrentSubmissionsAreEachStoredWholeOrNotAtAll(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            // Forty jobs at once; every seventh has a task the schema refuses deep inside it.
            let outcomes = await withTaskGroup(of: (Int, SubmittedJob?).self) { group in
                for index in 0..<40 {
                    group.addTask {
                        var tasks = sampleTasks(25, host: "example.test/\(index)")
                        if index % 7 == 3 { tasks[17].timeoutMillis = 0 }
                        let job = try? await store.submit(NewJob(tasks: tasks, timeoutMillis: 1_000), now: 1_000)
                        return (index, job)
                    }
                }
                return await group.reduce(into: [Int: SubmittedJob?]()) { $0[$1.0] = $1.1 }
            }
            let refused = outcomes.filter { $0.value == nil }.map(\.key).sorted()
            #expect(refused == [3, 10, 17, 24, 31, 38])
            #expect(try await store.totals().queued == 34 * 25)
            #expect(try await store.jobs(state: nil, cursor: nil, limit: 100).jobs.count == 34)
            for case (let index, let job?) in outcomes {
                let tasks = try await store.allTasks(of: job.id)
                #expect(tasks.map(\.request.url) == (0..<25).map { "http://example.test/\(index)/\($0)" })
            }
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aBurstOfBigJobsIsStoredWhole(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            // 6 × 3,000 tasks at once (on SQLite, more than one group commit takes).
            let jobs = try await withThrowingTaskGroup(of: (Int, SubmittedJob).self) { group in
                for index in 0..<6 {
                    group.addTask {
                        let tasks = sampleTasks(3_000, host: "example.test/\(index)")
                        return (index, try await store.submit(NewJob(tasks: tasks, timeoutMillis: 1_000), now: 1))
                    }
                }
                return try await group.reduce(into: [Int: SubmittedJob]()) { $0[$1.0] = $1.1 }
            }
            #expect(jobs.count == 6)
            #expect(try await store.totals().queued == 18_000)
            for (index, job) in jobs {
                let record = try #require(try await store.job(job.id))
                #expect(record.counts.queued == 3_000)
                let last = try #require(try await store.task(job.taskIDs[2_999]))
                #expect(last.request.url == "http://example.test/\(index)/2999")
            }
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func headersComeBackExactlyAsTheyWentIn(engine: StoreEngine) async throws {
        let awkward = [
            "plain", "with \"quotes\"", #"back\slash"#, "tab\there", "\u{01}control", "é accents",
            "emoji 😀", #"looks escaped \u0041"#, "", "slash/ok",
        ]
        let pairs =
            awkward.enumerated().map { HeaderField("x-h\($0.offset)", $0.element) } + [
                HeaderField("X-Repeat", "1"), HeaderField("X-Repeat", "2"),
            ]
        try await withStore(engine) { store in
            var task = sampleTask("http://a.test/")
            task.request.headers = pairs
            let submitted = try await store.submit(NewJob(tasks: [task], timeoutMillis: 1_000), now: 1)
            #expect(try await store.task(submitted.taskIDs[0])?.request.headers == pairs)
            let claimed = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            #expect(claimed[0].request.headers == pairs)
            let response =
                awkward.enumerated().map { HeaderField("h\($0.offset)", $0.element) } + [
                    HeaderField("Set-Cookie", "a=1; Path=/"), HeaderField("Set-Cookie", "b=2, c=3"),
                ]
            let finished = AttemptResult(
                seq: claimed[0].seq, attempt: claimed[0].attempt,
                outcome: Outcome(statusCode: 200, headers: response, bodyBytes: 0), disposition: .succeeded,
                body: StoredBody(contentType: nil, bytes: []), finishedAt: 3)
            #expect(try await store.record([finished]) == [true])
            #expect(try await store.task(claimed[0].id)?.outcome?.headers == response)
        }
    }
}

/// Open jobs on every engine: tasks appended batch by batch, whole or not at all, then sealed.
@Suite struct OpenJobConformanceTests {
    @Test(arguments: StoreEngine.allCases)
    func anOpenJobIsNotCompletedUntilSealed(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let opened = try await store.submit(
                NewJob(
                    tasks: sampleTasks(2), timeoutMillis: 1_000, callback: Callback(url: "http://receiver.test/"),
                    open: true),
                now: 1)
            _ = try await store.finishAll(now: 2)
            var job = try #require(try await store.job(opened.id))
            #expect(job.isOpen && job.state == .pending && job.finishedAt == nil, "every task final, but open")
            #expect(job.counts.succeeded == 2)
            let batch = try #require(
                try await store.append(sampleTasks(2, host: "b.test"), to: opened.id, idempotency: nil, now: 3).created)
            #expect(batch.id == opened.id)
            #expect(batch.taskIDs.count == 2)
            let tasks = try await store.allTasks(of: opened.id)
            #expect(tasks.map(\.id) == opened.taskIDs + batch.taskIDs, "appended after the first tasks, in order")
            #expect(try await store.job(opened.id)?.taskCount == 4)
            _ = try await store.finishAll(now: 4)
            job = try #require(try await store.job(opened.id))
            #expect(job.state == .pending && job.finishedAt == nil)
            let events = try await store.allDeliveries(of: opened.id).map(\.eventType)
            #expect(events == Array(repeating: .taskFinished, count: 4), "no job.finished while open")
            let sealed = try #require(try await store.seal(job: opened.id, now: 5).sealed)
            #expect(!sealed.isOpen && sealed.state == .completed && sealed.finishedAt == 5)
            #expect(try await store.allDeliveries(of: opened.id).map(\.eventType).last == .jobFinished)
            // Sealing again changes nothing.
            let again = try #require(try await store.seal(job: opened.id, now: 9).sealed)
            #expect(again.finishedAt == 5)
            #expect(try await store.allDeliveries(of: opened.id).count == 5, "one job.finished")
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aSealedJobFinishesWithItsLastTask(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let opened = try await store.submit(NewJob(tasks: sampleTasks(1), timeoutMillis: 1_000, open: true), now: 1)
            let sealed = try #require(try await store.seal(job: opened.id, now: 2).sealed)
            #expect(sealed.state == .pending && sealed.finishedAt == nil, "its task is still queued")
            _ = try await store.finishAll(now: 3)
            let job = try #require(try await store.job(opened.id))
            #expect(job.state == .completed && job.finishedAt == 3)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func anEmptyOpenJobCompletesWhenSealed(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let opened = try await store.submit(NewJob(tasks: [], timeoutMillis: 1_000, open: true), now: 1)
            #expect(try await store.job(opened.id)?.state == .pending)
            let sealed = try #require(try await store.seal(job: opened.id, now: 2).sealed)
            #expect(sealed.state == .completed && sealed.finishedAt == 2 && sealed.taskCount == 0)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func anAppendToASealedOrUnknownJobStoresNothing(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let opened = try await store.submit(NewJob(tasks: sampleTasks(1), timeoutMillis: 1_000, open: true), now: 1)
            _ = try await store.seal(job: opened.id, now: 2)
            let sealedError = await #expect(throws: StoreError.self) {
                try await store.append(sampleTasks(3, host: "late.test"), to: opened.id, idempotency: nil, now: 3)
            }
            #expect(sealedError?.code == .conflict)
            let unknownJob = try Unknown.job()
            let unknownError = await #expect(throws: StoreError.self) {
                try await store.append(sampleTasks(3), to: unknownJob, idempotency: nil, now: 3)
            }
            #expect(unknownError?.code == .notFound)
            #expect(try await store.seal(job: unknownJob, now: 3).sealed == nil)
            #expect(try await store.job(opened.id)?.taskCount == 1)
            #expect(try await store.totals().total == 1)
            #expect(try await store.hostQueues(now: 10)["late.test"] == nil)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func anAppendWithOneInvalidTaskStoresNothing(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let opened = try await store.submit(NewJob(tasks: sampleTasks(2), timeoutMillis: 1_000, open: true), now: 1)
            var batch = sampleTasks(50, host: "b.test")
            batch[31].timeoutMillis = 0
            await #expect(throws: (any Error).self) {
                try await store.append(batch, to: opened.id, idempotency: nil, now: 2)
            }
            let job = try #require(try await store.job(opened.id))
            #expect(job.taskCount == 2 && job.counts.queued == 2 && job.isOpen)
            #expect(try await store.allTasks(of: opened.id).map(\.id) == opened.taskIDs)
            // The job still takes a good batch, right after its first tasks.
            let good = try #require(
                try await store.append(sampleTasks(2, host: "c.test"), to: opened.id, idempotency: nil, now: 3).created)
            #expect(try await store.allTasks(of: opened.id).map(\.id) == opened.taskIDs + good.taskIDs)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func cancelingAnOpenJobClosesIt(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let opened = try await store.submit(NewJob(tasks: sampleTasks(2), timeoutMillis: 1_000, open: true), now: 1)
            let cancellation = try #require(try await store.cancel(job: opened.id, now: 2))
            #expect(cancellation.canceled == 2)
            let job = try #require(try await store.job(opened.id))
            #expect(!job.isOpen && job.state == .completed && job.counts.canceled == 2)
            let error = await #expect(throws: StoreError.self) {
                try await store.append(sampleTasks(1), to: opened.id, idempotency: nil, now: 3)
            }
            #expect(error?.code == .conflict)
        }
    }
}
