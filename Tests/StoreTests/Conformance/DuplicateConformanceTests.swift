import Foundation
import Store
import TestSupport
import Testing

/// `unique_urls` on every engine: repeats (same method, URL and body) in one submission and across
/// appends to an open job create no task and name the one that stands for them; a body difference
/// is not a repeat; a job without it keeps its repeats.
@Suite struct DuplicateConformanceTests {
    private func task(_ path: String, method: String = "GET", body: String? = nil) -> NewTask {
        NewTask(
            request: FetchRequest(url: "http://dup.test\(path)", method: method, body: body.map { Array($0.utf8) }),
            host: "dup.test", timeoutMillis: 1_000)
    }

    @Test(arguments: StoreEngine.allCases)
    func repeatsAcrossAppendsCreateNoTask(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            var job = NewJob(tasks: [task("/a"), task("/b"), task("/a")], timeoutMillis: 1_000, open: true)
            job.uniqueURLs = true
            let first = try await store.submit(job, now: 1)
            #expect(first.duplicates == 1)
            #expect(first.taskIDs.count == 3)
            #expect(first.taskIDs[2] == first.taskIDs[0], "the repeat names the first /a")
            let batch = [
                task("/b"), task("/c"), task("/c", method: "POST", body: "one"),
                task("/c", method: "POST", body: "two"),
                task("/c", method: "POST", body: "one"),
            ]
            guard case .created(let appended) = try await store.append(batch, to: first.id, idempotency: nil, now: 2)
            else {
                Issue.record("the append is stored")
                return
            }
            #expect(appended.duplicates == 2)
            #expect(appended.taskIDs[0] == first.taskIDs[1], "an earlier append's task stands for /b")
            #expect(appended.taskIDs[4] == appended.taskIDs[2], "the same body again is a repeat")
            #expect(appended.taskIDs[3] != appended.taskIDs[2], "a different body is not")
            let stored = try await store.allTasks(of: first.id)
            #expect(stored.count == 5)
            #expect(try await store.job(first.id)?.taskCount == 5)
            #expect(try await store.job(first.id)?.counts.queued == 5)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func withoutItRepeatsAreKept(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let submitted = try await store.submit(
                NewJob(tasks: [task("/a"), task("/a")], timeoutMillis: 1_000), now: 1)
            #expect(submitted.duplicates == 0)
            #expect(Set(submitted.taskIDs).count == 2)
        }
    }
}
