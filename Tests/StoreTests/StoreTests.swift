import Foundation
import TestSupport
import Testing

@testable import Store

@Suite struct MigrationTests {
    @Test func migrationsApplyOnceAndAreRecorded() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "m.db").path
            let first = try Store.migrate(path: path, logger: .quiet)
            #expect(first == Store.knownMigrations)
            let second = try Store.migrate(path: path, logger: .quiet)
            #expect(second.isEmpty)
            // Opening a store on a migrated database applies nothing and works.
            let store = try Store(path: path, logger: .quiet)
            #expect(try store.totals() == StateCounts())
        }
    }

    @Test func newDatabaseIsReadableByItsOwnerOnly() async throws {
        try await withTestStore { _, path in
            let attributes = try FileManager.default.attributesOfItem(atPath: path.path)
            let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue
            #expect(permissions == 0o600)
        }
    }
}

@Suite struct SubmitTests {
    @Test func submitStoresEveryTaskQueuedInOrder() async throws {
        try await withTestStore { store, _ in
            let job = NewJob(tasks: (0..<250).map { sampleTask("http://example.test/\($0)") }, timeoutMillis: 5_000)
            let submitted = try await store.submit(job, now: 1_000)
            #expect(submitted.taskIDs.count == 250)
            #expect(submitted.taskIDs.map(\.rawValue) == submitted.taskIDs.map(\.rawValue).sorted())
            let record = try #require(try store.job(submitted.id))
            #expect(record.counts.queued == 250)
            #expect(record.state == .pending)
            let page = try #require(try store.tasks(of: submitted.id, state: nil, cursor: nil, limit: 1_000))
            #expect(page.tasks.map(\.request.url) == (0..<250).map { "http://example.test/\($0)" })
            #expect(page.nextCursor == nil)
        }
    }

    @Test(arguments: [1, 3, 4, 17, 64, 65, 129])
    func everyTaskIsStoredInOrderWhateverTheJobSize(size: Int) async throws {
        try await withTestStore { store, _ in
            let urls = (0..<size).map { "http://example.test/\($0)" }
            let submitted = try await store.submit(
                NewJob(tasks: urls.map { sampleTask($0) }, timeoutMillis: 1_000), now: 1)
            let page = try #require(try store.tasks(of: submitted.id, state: nil, cursor: nil, limit: 1_000))
            #expect(page.tasks.map(\.request.url) == urls)
            #expect(page.tasks.map(\.id) == submitted.taskIDs)
        }
    }

    @Test func aBatchWithOneInvalidTaskStoresNothing() async throws {
        try await withTestStore { store, _ in
            var tasks = (0..<100).map { sampleTask("http://example.test/\($0)") }
            tasks[73].timeoutMillis = 0  // violates the schema's CHECK, deep inside the batch
            await #expect(throws: StoreError.self) {
                try await store.submit(NewJob(tasks: tasks, timeoutMillis: 5_000), now: 1_000)
            }
            #expect(try store.totals().total == 0)
            let claimed = try await store.claim(limit: 1_000, now: 2_000, leaseMarginMillis: 0)
            #expect(claimed.isEmpty)
        }
    }

    @Test func concurrentSubmissionsAreEachStoredWholeOrNotAtAll() async throws {
        try await withTestStore { store, _ in
            // Forty jobs at once (committed together while the writer is busy); every seventh has a
            // task the schema refuses deep inside it.
            let outcomes = await withTaskGroup(of: (Int, SubmittedJob?).self) { group in
                for index in 0..<40 {
                    group.addTask {
                        var tasks = (0..<25).map { sampleTask("http://example.test/\(index)/\($0)") }
                        if index % 7 == 3 { tasks[17].timeoutMillis = 0 }
                        let job = try? await store.submit(NewJob(tasks: tasks, timeoutMillis: 1_000), now: 1_000)
                        return (index, job)
                    }
                }
                return await group.reduce(into: [Int: SubmittedJob?]()) { $0[$1.0] = $1.1 }
            }
            let refused = outcomes.filter { $0.value == nil }.map(\.key).sorted()
            #expect(refused == [3, 10, 17, 24, 31, 38])
            #expect(try store.totals().queued == 34 * 25)
            for case (let index, let job?) in outcomes {
                let page = try #require(try store.tasks(of: job.id, state: nil, cursor: nil, limit: 100))
                #expect(page.tasks.map(\.request.url) == (0..<25).map { "http://example.test/\(index)/\($0)" })
            }
        }
    }

    @Test func aBurstOfBigJobsIsStoredWholeAcrossSeveralGroupCommits() async throws {
        try await withTestStore { store, _ in
            // 6 × 3,000 tasks at once: more than one group commit takes (10,000 tasks).
            let jobs = try await withThrowingTaskGroup(of: (Int, SubmittedJob).self) { group in
                for index in 0..<6 {
                    group.addTask {
                        let tasks = (0..<3_000).map { sampleTask("http://example.test/\(index)/\($0)") }
                        return (index, try await store.submit(NewJob(tasks: tasks, timeoutMillis: 1_000), now: 1))
                    }
                }
                return try await group.reduce(into: [Int: SubmittedJob]()) { $0[$1.0] = $1.1 }
            }
            #expect(jobs.count == 6)
            #expect(try store.totals().queued == 18_000)
            for (index, job) in jobs {
                let record = try #require(try store.job(job.id))
                #expect(record.counts.queued == 3_000)
                let last = try #require(try store.task(job.taskIDs[2_999]))
                #expect(last.request.url == "http://example.test/\(index)/2999")
            }
        }
    }

    @Test func concurrentSubmissionsWithOneIdempotencyKeyStoreOneJob() async throws {
        try await withTestStore { (store: Store, _: URL) async throws in
            let key = Idempotency(key: "same", requestHash: "h", status: 201) { Array($0.id.rawValue.utf8) }
            let outcomes = await withTaskGroup(of: SubmitOutcome?.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try? await store.submit(
                            NewJob(tasks: [sampleTask("http://example.test/")], timeoutMillis: 1_000),
                            idempotency: key, now: 1_000)
                    }
                }
                return await group.reduce(into: [SubmitOutcome?]()) { $0.append($1) }
            }
            var created: [SubmittedJob] = []
            var replayed: [[UInt8]] = []
            for outcome in outcomes {
                switch outcome {
                case .created(let job): created.append(job)
                case .replayed(_, let body): replayed.append(body)
                default: Issue.record("unexpected outcome \(String(describing: outcome))")
                }
            }
            #expect(created.count == 1)
            #expect(replayed.count == 7)
            #expect(replayed.allSatisfy { $0 == Array((created.first?.id.rawValue ?? "").utf8) })
            #expect(try store.totals().queued == 1)
        }
    }

    @Test func pagesWalkEveryTaskOnceWithCursors() async throws {
        try await withTestStore { store, _ in
            let submitted = try await store.submit(
                NewJob(tasks: (0..<25).map { sampleTask("http://example.test/\($0)") }, timeoutMillis: 1_000), now: 1)
            var seen: [TaskID] = []
            var cursor: String?
            repeat {
                let page = try #require(try store.tasks(of: submitted.id, state: .queued, cursor: cursor, limit: 10))
                seen += page.tasks.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen == submitted.taskIDs)
            #expect(throws: StoreError.self) {
                try store.tasks(of: submitted.id, state: nil, cursor: "not-a-cursor", limit: 10)
            }
        }
    }
}

@Suite struct TransitionTests {
    @Test func claimTakesHigherPriorityFirstThenSubmitOrder() async throws {
        try await withTestStore { store, _ in
            var tasks = (0..<5).map { sampleTask("http://example.test/\($0)") }
            tasks[3].priority = 10
            _ = try await store.submit(NewJob(tasks: tasks, timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 3, now: 2, leaseMarginMillis: 0)
            #expect(
                claimed.map(\.request.url).sorted() == [
                    "http://example.test/0", "http://example.test/1", "http://example.test/3",
                ])
            #expect(claimed.allSatisfy { $0.attempt == 1 })
        }
    }

    @Test func succeededAndFailedAreFinalAndCounted() async throws {
        try await withTestStore { store, _ in
            let submitted = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.test/"), sampleTask("http://b.test/")], timeoutMillis: 1_000),
                now: 1)
            let claimed = try await store.claim(limit: 2, now: 2, leaseMarginMillis: 0)
            #expect(try store.job(submitted.id)?.counts.running == 2)
            let recorded = try await store.record([
                result(claimed[0], status: 200, .succeeded, body: "hello"),
                result(claimed[1], status: 404, .failed(.notRetryable), body: "nope"),
            ])
            #expect(recorded == [true, true])
            let job = try #require(try store.job(submitted.id))
            #expect(job.state == .completed)
            #expect(job.counts.succeeded == 1 && job.counts.failed == 1)
            #expect(job.finishedAt != nil)
            let task = try #require(try store.task(claimed[0].id))
            #expect(task.state == .succeeded)
            #expect(task.outcome?.statusCode == 200)
            guard case .body(let body, let truncated) = try store.body(of: claimed[0].id) else {
                Issue.record("no body stored")
                return
            }
            #expect(body.bytes == Array("hello".utf8))
            #expect(!truncated)
        }
    }

    @Test func committedPagesReachTheDatabaseFileWithoutTheWriterCheckpointing() async throws {
        try await withTestStore { store, path in
            let fileSize = { (try? FileManager.default.attributesOfItem(atPath: path.path)[.size] as? Int) ?? 0 }
            let before = fileSize()
            _ = try await store.submit(
                NewJob(tasks: (0..<2_000).map { sampleTask("http://a.test/\($0)") }, timeoutMillis: 1_000), now: 1)
            // The writer never checkpoints (wal_autocheckpoint = 0): the background checkpointer
            // copies the commit into the database file, so the log does not grow without end.
            #expect(await eventually(timeout: .seconds(10)) { fileSize() > before + 100_000 })
        }
    }

    @Test func headersComeBackExactlyAsTheyWentIn() async throws {
        let awkward = [
            "plain", "with \"quotes\"", #"back\slash"#, "tab\there", "\u{01}control", "é accents",
            "emoji 😀", #"looks escaped \u0041"#, "", "slash/ok",
        ]
        let pairs =
            awkward.enumerated().map { HeaderField("x-h\($0.offset)", $0.element) } + [
                HeaderField("X-Repeat", "1"), HeaderField("X-Repeat", "2"),
            ]
        try await withTestStore { store, _ in
            var task = sampleTask("http://a.test/")
            task.request.headers = pairs
            _ = try await store.submit(NewJob(tasks: [task], timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            #expect(claimed[0].request.headers == pairs)
            let response = awkward.enumerated().map { HeaderField("h\($0.offset)", $0.element) }
            let finished = AttemptResult(
                seq: claimed[0].seq, attempt: claimed[0].attempt,
                outcome: Outcome(statusCode: 200, headers: response, bodyBytes: 0), disposition: .succeeded,
                body: StoredBody(contentType: nil, bytes: []), finishedAt: 3)
            _ = try await store.record([finished])
            #expect(try store.task(claimed[0].id)?.outcome?.headers == response)
        }
    }

    @Test func theAttemptsLogShowsEveryAttemptIncludingTheLast() async throws {
        try await withTestStore { store, _ in
            _ = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.test/", attempts: 3)], timeoutMillis: 1_000), now: 1)
            let first = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            _ = try await store.record([result(first[0], status: 503, .retry(at: 3), body: "busy")])
            let second = try await store.claim(limit: 1, now: 3, leaseMarginMillis: 0)
            _ = try await store.record([result(second[0], status: 404, .failed(.notRetryable), body: "gone")])
            let failed = try #require(try store.task(first[0].id))
            #expect(failed.attemptsLog.map(\.attempt) == [1, 2])
            #expect(failed.attemptsLog.map(\.statusCode) == [503, 404])
            // Retried by hand: the failed run's attempts stay in the log until new ones replace them.
            #expect(try await store.rerun(task: first[0].id, now: 4) == true)
            #expect(try store.task(first[0].id)?.attemptsLog.map(\.statusCode) == [503, 404])
            let third = try await store.claim(limit: 1, now: 5, leaseMarginMillis: 0)
            _ = try await store.record([result(third[0], status: 200, .succeeded, body: "ok")])
            let succeeded = try #require(try store.task(first[0].id))
            #expect(succeeded.attemptsLog.map(\.attempt) == [1, 2])
            #expect(succeeded.attemptsLog.map(\.statusCode) == [200, 404])
        }
    }

    @Test func tasksNotYetDueDoNotHideOrReorderTheDueOnes() async throws {
        try await withTestStore { store, _ in
            // 300 tasks for tomorrow, submitted first, so they sit in front in submit order.
            var later = (0..<300).map { sampleTask("http://later.test/\($0)") }
            for index in later.indices { later[index].notBefore = 86_400_000 }
            _ = try await store.submit(NewJob(tasks: later, timeoutMillis: 1_000), now: 1)
            #expect(try await store.claim(limit: 10, now: 2, leaseMarginMillis: 0).isEmpty)
            var due = (0..<4).map { sampleTask("http://due.test/\($0)") }
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

    @Test func onePassRecordsResultsThenClaimsTheNextTasks() async throws {
        try await withTestStore { store, _ in
            let submitted = try await store.submit(
                NewJob(
                    tasks: [
                        sampleTask("http://a.test/1"), sampleTask("http://a.test/2"), sampleTask("http://a.test/3"),
                    ],
                    timeoutMillis: 1_000),
                now: 1)
            let first = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            let pass = try await store.recordAndClaim(
                [result(first[0], status: 200, .succeeded, body: "one")], limit: 5, now: 3, leaseMarginMillis: 0)
            #expect(pass.recorded == [true])
            #expect(pass.claimed.map(\.request.url) == ["http://a.test/2", "http://a.test/3"])
            #expect(try store.task(first[0].id)?.state == .succeeded)
            let job = try #require(try store.job(submitted.id))
            #expect(job.counts.succeeded == 1 && job.counts.running == 2)
            // A result that is no longer current is ignored, and claiming still happens.
            let late = try await store.recordAndClaim(
                [result(first[0], status: 500, .failed(.notRetryable), body: "late")], limit: 5, now: 4,
                leaseMarginMillis: 0)
            #expect(late.recorded == [false])
            #expect(late.claimed.isEmpty)
            #expect(try store.task(first[0].id)?.state == .succeeded)
        }
    }

    @Test func retryReturnsTheTaskToTheQueueUntilItIsDue() async throws {
        try await withTestStore { store, _ in
            _ = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.test/", attempts: 3)], timeoutMillis: 1_000), now: 1)
            let first = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            _ = try await store.record([result(first[0], status: 503, .retry(at: 500), body: "busy")])
            let task = try #require(try store.task(first[0].id))
            #expect(task.state == .queued)
            #expect(task.nextAttemptAt == 500)
            #expect(try await store.claim(limit: 1, now: 499, leaseMarginMillis: 0).isEmpty)
            let second = try await store.claim(limit: 1, now: 500, leaseMarginMillis: 0)
            #expect(second.first?.attempt == 2)
        }
    }

    @Test func aStaleResultIsIgnored() async throws {
        try await withTestStore { store, _ in
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
            #expect(try store.task(first[0].id)?.state == .running)
            #expect(try await store.record([result(second[0], status: 200, .succeeded, body: "ok")]) == [true])
            #expect(try store.task(first[0].id)?.state == .succeeded)
        }
    }

    @Test func returningALostWorkersTasksCountsTheAttempt() async throws {
        try await withTestStore { store, _ in
            _ = try await store.submit(
                NewJob(
                    tasks: [sampleTask("http://a.test/", attempts: 2), sampleTask("http://b.test/", attempts: 1)],
                    timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 2, now: 2, leaseMarginMillis: 0)
            let leases = claimed.map { (seq: $0.seq, attempt: $0.attempt) }
            try await store.returnLost(leases, error: "worker_lost", message: "died", now: 3)
            #expect(try store.task(claimed[0].id)?.state == .queued)
            let lastChance = try #require(try store.task(claimed[1].id))
            #expect(lastChance.state == .failed)
            #expect(lastChance.outcome?.error == "worker_lost")
        }
    }

    @Test func givingTasksBackAtShutdownDoesNotCountTheAttempt() async throws {
        try await withTestStore { store, _ in
            _ = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.test/", attempts: 1)], timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            try await store.giveBack(claimed.map { (seq: $0.seq, attempt: $0.attempt) }, now: 3)
            let task = try #require(try store.task(claimed[0].id))
            #expect(task.state == .queued)
            #expect(task.attempts == 0)
        }
    }

    @Test func cancelStopsQueuedAndRunningButLeavesFinalTasks() async throws {
        try await withTestStore { store, _ in
            let submitted = try await store.submit(
                NewJob(tasks: (0..<3).map { sampleTask("http://a.test/\($0)") }, timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 2, now: 2, leaseMarginMillis: 0)
            _ = try await store.record([result(claimed[0], status: 200, .succeeded, body: "")])
            let cancellation = try #require(try await store.cancel(job: submitted.id, now: 3))
            #expect(cancellation.canceled == 2)
            #expect(cancellation.running == [claimed[1].seq])
            let job = try #require(try store.job(submitted.id))
            #expect(job.counts.succeeded == 1 && job.counts.canceled == 2)
            #expect(job.state == .completed)
            // The running attempt's result arrives after the cancel: ignored.
            #expect(try await store.record([result(claimed[1], status: 200, .succeeded, body: "")]) == [false])
        }
    }
}

func sampleTask(_ url: String, attempts: Int = 1) -> NewTask {
    NewTask(
        request: FetchRequest(url: url), host: URL(string: url)?.host ?? "", timeoutMillis: 1_000,
        maxAttempts: attempts)
}

func result(_ task: ClaimedTask, status: Int, _ disposition: Disposition, body: String) -> AttemptResult {
    AttemptResult(
        seq: task.seq, attempt: task.attempt,
        outcome: Outcome(
            statusCode: status, headers: [HeaderField("content-type", "text/plain")], bodyBytes: body.utf8.count),
        disposition: disposition, body: StoredBody(contentType: "text/plain", bytes: Array(body.utf8)), finishedAt: 4)
}

@Suite struct HeaderStorageTests {
    @Test func requestHeadersSurviveStorageExactlyIncludingOddCharacters() async throws {
        try await withTestStore { store, _ in
            let headers = [
                HeaderField("X-Quote", #"say "hi" \ there"#), HeaderField("X-Unicode", "é😀"),
                HeaderField("X-Tab", "a\tb"),
                HeaderField("X-Repeat", "1"), HeaderField("X-Repeat", "2"),
            ]
            var task = sampleTask("http://a.test/")
            task.request.headers = headers
            let submitted = try await store.submit(NewJob(tasks: [task], timeoutMillis: 1_000), now: 1)
            let stored = try #require(try store.task(submitted.taskIDs[0]))
            #expect(stored.request.headers == headers)
        }
    }

    @Test func responseHeadersSurviveStorageInOrderWithRepeatsKept() async throws {
        try await withTestStore { store, _ in
            let submitted = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.test/")], timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            let headers = [
                HeaderField("Content-Type", "text/plain"), HeaderField("Set-Cookie", "a=1; Path=/"),
                HeaderField("x-odd", "\"quoted\" \\ \u{1}"), HeaderField("Set-Cookie", "b=2, c=3"),
            ]
            _ = try await store.record([
                AttemptResult(
                    seq: claimed[0].seq, attempt: 1, outcome: Outcome(statusCode: 200, headers: headers),
                    disposition: .succeeded, body: nil, finishedAt: 3)
            ])
            #expect(try store.task(submitted.taskIDs[0])?.outcome?.headers == headers)
        }
    }

    @Test func responseHeadersStoredByAnEarlierVersionStillRead() async throws {
        try await withTestStore { store, path in
            let submitted = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.test/")], timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            _ = try await store.record([
                AttemptResult(
                    seq: claimed[0].seq, attempt: 1, outcome: Outcome(statusCode: 200, headers: []),
                    disposition: .succeeded, body: nil, finishedAt: 3)
            ])
            // Before lists, response headers were stored as one JSON object.
            let database = try Database(path: path.path, mode: .readWrite)
            try database.execute(#"UPDATE tasks SET response_headers = '{"content-type":"text/plain","x-a":"1, 2"}'"#)
            #expect(
                try store.task(submitted.taskIDs[0])?.outcome?.headers == [
                    HeaderField("content-type", "text/plain"), HeaderField("x-a", "1, 2"),
                ])
        }
    }
}
