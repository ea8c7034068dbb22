import Foundation
import Store
import TestSupport
import Testing

/// Idempotency keys on every engine: a repeat answers the first outcome and stores nothing.
@Suite struct IdempotencyConformanceTests {
    @Test(arguments: StoreEngine.allCases)
    func theSameKeyAndRequestReplayTheFirstAnswer(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = NewJob(tasks: sampleTasks(3), timeoutMillis: 1_000)
            let first = try #require(try await store.submit(job, idempotency: idempotency("k1"), now: 1_000).created)
            let again = try await store.submit(job, idempotency: idempotency("k1"), now: 2_000)
            guard case .replayed(let status, let body) = again else {
                Issue.record("expected a replay, got \(again)")
                return
            }
            #expect(status == 201)
            #expect(body == Array(first.id.rawValue.utf8))
            #expect(try await store.totals().queued == 3, "the replay stored nothing")
            #expect(try await store.jobs(state: nil, cursor: nil, limit: 10).jobs.map(\.id) == [first.id])
            // Another key is another job.
            #expect(try await store.submit(job, idempotency: idempotency("k2"), now: 3_000).created != nil)
            #expect(try await store.totals().queued == 6)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func theSameKeyWithAnotherRequestIsRefusedAndStoresNothing(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = NewJob(tasks: sampleTasks(3), timeoutMillis: 1_000)
            _ = try await store.submit(job, idempotency: idempotency("k", hash: "first"), now: 1_000)
            let other = NewJob(tasks: sampleTasks(5, host: "other.test"), timeoutMillis: 1_000)
            let outcome = try await store.submit(other, idempotency: idempotency("k", hash: "second"), now: 2_000)
            guard case .keyReused = outcome else {
                Issue.record("expected keyReused, got \(outcome)")
                return
            }
            #expect(try await store.totals().total == 3)
            #expect(try await store.hostQueues(now: 10_000)["other.test"] == nil)
            #expect(try await store.jobs(state: nil, cursor: nil, limit: 10).jobs.count == 1)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func concurrentSubmissionsWithOneKeyStoreOneJob(engine: StoreEngine) async throws {
        try await withStore(engine) { (store: any QueueStore) async throws in
            let outcomes = await withTaskGroup(of: Result<SubmitOutcome, any Error>.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do {
                            return .success(
                                try await store.submit(
                                    NewJob(tasks: sampleTasks(1), timeoutMillis: 1_000),
                                    idempotency: idempotency("same"), now: 1_000))
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                return await group.reduce(into: [Result<SubmitOutcome, any Error>]()) { $0.append($1) }
            }
            var created: [SubmittedJob] = []
            var replayed: [[UInt8]] = []
            for outcome in outcomes {
                switch outcome {
                case .success(.created(let job)): created.append(job)
                case .success(.replayed(_, let body)): replayed.append(body)
                default: Issue.record("unexpected outcome \(outcome)")
                }
            }
            #expect(created.count == 1)
            #expect(replayed.count == 7)
            #expect(replayed.allSatisfy { $0 == Array((created.first?.id.rawValue ?? "").utf8) })
            #expect(try await store.totals().queued == 1)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func anAppendsKeyReplaysEvenOnceTheJobIsSealed(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let opened = try await store.submit(NewJob(tasks: [], timeoutMillis: 1_000, open: true), now: 1)
            let batch = sampleTasks(2)
            let first = try #require(
                try await store.append(batch, to: opened.id, idempotency: idempotency("a1"), now: 2).created)
            #expect(first.taskIDs.count == 2)
            let again = try await store.append(batch, to: opened.id, idempotency: idempotency("a1"), now: 3)
            guard case .replayed = again else {
                Issue.record("expected a replay, got \(again)")
                return
            }
            #expect(try await store.job(opened.id)?.taskCount == 2)
            let reused = try await store.append(batch, to: opened.id, idempotency: idempotency("a1", hash: "x"), now: 4)
            guard case .keyReused = reused else {
                Issue.record("expected keyReused, got \(reused)")
                return
            }
            _ = try await store.seal(job: opened.id, now: 5)
            let afterSeal = try await store.append(batch, to: opened.id, idempotency: idempotency("a1"), now: 6)
            guard case .replayed = afterSeal else {
                Issue.record("expected a replay after the seal, got \(afterSeal)")
                return
            }
            #expect(try await store.job(opened.id)?.taskCount == 2)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aSubmissionThatFailsLeavesItsKeyUnused(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            var tasks = sampleTasks(10)
            tasks[7].timeoutMillis = 0
            await #expect(throws: (any Error).self) {
                try await store.submit(
                    NewJob(tasks: tasks, timeoutMillis: 1_000), idempotency: idempotency("retry-me"), now: 1)
            }
            // The key was not kept with the failed batch: sent again, fixed, it is stored.
            tasks[7].timeoutMillis = 1_000
            let stored = try await store.submit(
                NewJob(tasks: tasks, timeoutMillis: 1_000), idempotency: idempotency("retry-me"), now: 2)
            #expect(stored.created?.taskIDs.count == 10)
            #expect(try await store.totals().total == 10)
        }
    }
}
