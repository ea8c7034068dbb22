import Engine
import Foundation
import TestSupport
import Testing

@testable import Store
@testable import StoreSQLite

/// The retention sweep, by an injected clock: no waiting.
@Suite struct RetentionTests {
    static let day: Int64 = 86_400_000
    static let now: Int64 = 100 * day

    @Test func aJobFinishedPastRetentionIsDeletedWithAllItsRowsAndNewerOnesAreKept() async throws {
        try await withTestStore { store, _ in
            let old = try await finishedJob(store, finishedAt: Self.now - 8 * Self.day)
            let recent = try await finishedJob(store, finishedAt: Self.now - 6 * Self.day)
            let pending = try await store.submit(
                NewJob(tasks: [task("http://c.test/1"), task("http://c.test/2")], timeoutMillis: 1_000),
                now: Self.now - 9 * Self.day)
            let before = try rows(store)
            #expect(
                before == Rows(tasks: 6, bodies: 4, attempts: 2, deliveries: 6), "two finished jobs and a pending one")

            // One row per transaction: the sweep takes several and still ends.
            let sweeper = RetentionSweeper(
                store: store, retentionMillis: 7 * Self.day, batchRows: 1,
                clock: EngineClock(wallMillis: { Self.now }, monotonic: { .now }), logger: .quiet)
            #expect(try await sweeper.sweep() == 3, "the old job's two tasks, then the job")

            #expect(try store.job(old) == nil)
            #expect(try store.job(recent)?.state == .completed)
            #expect(try store.job(pending.id)?.state == .pending)
            #expect(try rows(store) == Rows(tasks: 4, bodies: 2, attempts: 1, deliveries: 3))
            #expect(try await sweeper.sweep() == 0, "nothing else has expired")
        }
    }

    @Test func retentionZeroKeepsEverything() async throws {
        try await withTestStore { store, _ in
            let old = try await finishedJob(store, finishedAt: 1)
            let sweeper = RetentionSweeper(
                store: store, retentionMillis: 0, clock: EngineClock(wallMillis: { Self.now }, monotonic: { .now }),
                logger: .quiet)
            #expect(try await sweeper.sweep() == 0)
            #expect(try store.job(old) != nil)
        }
    }

    @Test func aFinishedJobWithAWebhookStillToSendIsKept() async throws {
        try await withTestStore { store, _ in
            let job = try await finishedJob(store, finishedAt: 1, deliver: false)
            #expect(try await store.deleteExpired(finishedBefore: Self.now, limit: 500) == 0)
            #expect(try store.job(job) != nil)
        }
    }

    struct Rows: Equatable {
        var tasks, bodies, attempts, deliveries: Int
    }

    private func rows(_ store: SQLiteStore) throws -> Rows {
        try store.readers.withReader { db in
            func count(_ table: String) throws -> Int {
                try db.queryOne("SELECT count(*) FROM \(table)") { $0.int(0) } ?? 0
            }
            return Rows(
                tasks: try count("tasks"), bodies: try count("task_bodies"), attempts: try count("task_attempts"),
                deliveries: try count("deliveries"))
        }
    }

    private func task(_ url: String) -> NewTask {
        NewTask(
            request: FetchRequest(url: url), host: URL(string: url)?.host ?? "", timeoutMillis: 1_000, maxAttempts: 2)
    }

    /// A job of two tasks with webhooks: one succeeds at once, one after a retry; both keep a body,
    /// the retried one an attempt; its three deliveries are sent unless `deliver` is false.
    private func finishedJob(_ store: SQLiteStore, finishedAt: Int64, deliver: Bool = true) async throws -> JobID {
        let start = finishedAt - 1_000
        let job = try await store.submit(
            NewJob(
                tasks: [task("http://a.test/1"), task("http://a.test/2")], timeoutMillis: 1_000,
                callback: Callback(url: "http://receiver.test/hook")),
            now: start)
        let claimed = try await store.claim(limit: 2, now: start, leaseMarginMillis: 0)
        #expect(claimed.count == 2)
        _ = try await store.record([
            attempt(claimed[0], .retry(at: start), at: start + 1), attempt(claimed[1], .succeeded, at: finishedAt),
        ])
        let again = try await store.claim(limit: 2, now: start + 2, leaseMarginMillis: 0)
        #expect(again.count == 1)
        _ = try await store.record(again.map { attempt($0, .succeeded, at: finishedAt) })
        if deliver {
            let deliveries = try await store.claimDeliveries(limit: 10, now: finishedAt, leaseMillis: 1_000)
            #expect(deliveries.count == 3)
            try await store.recordDeliveries(
                deliveries.map {
                    DeliveryResult(
                        seq: $0.seq, attempt: $0.attempt, next: .delivered, status: 204, error: nil, at: finishedAt)
                })
        }
        return job.id
    }

    private func attempt(_ task: ClaimedTask, _ disposition: Disposition, at time: Int64) -> AttemptResult {
        AttemptResult(
            seq: task.seq, attempt: task.attempt,
            outcome: Outcome(statusCode: 200, headers: [HeaderField("content-type", "text/plain")], bodyBytes: 2),
            disposition: disposition, body: StoredBody(contentType: "text/plain", bytes: Array("ok".utf8)),
            finishedAt: time)
    }
}
