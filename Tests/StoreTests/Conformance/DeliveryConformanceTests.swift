import Foundation
import JSON
import Store
import TestSupport
import Testing

/// Webhook deliveries on every engine: created with the change behind them, payload rendered,
/// claimed under a lease, recorded, released, sent again by hand.
@Suite struct DeliveryConformanceTests {
    /// A job of three tasks with a webhook for each task and for the job.
    private func jobWithCallback(_ store: any QueueStore, secret: String? = nil) async throws -> SubmittedJob {
        try await store.submit(
            NewJob(
                tasks: sampleTasks(3), timeoutMillis: 1_000,
                callback: Callback(url: "http://receiver.test/hook", secret: secret)),
            now: 1)
    }

    @Test(arguments: StoreEngine.allCases)
    func eachEventIsRenderedWithTheStateBehindIt(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try await store.submit(
                NewJob(
                    tasks: sampleTasks(2), timeoutMillis: 1_000,
                    callback: Callback(url: "http://receiver.test/hook", secret: "whsec_job")),
                now: 1)
            let claimed = try await store.claim(limit: 2, now: 2, leaseMarginMillis: 0)
            _ = try await store.record([result(claimed[0], status: 200, .succeeded, body: "ok", at: 5)])
            let first = try await store.claimDeliveries(limit: 10, now: 6, leaseMillis: 1_000)
            #expect(first.count == 1)
            let succeeded = try #require(try await store.task(claimed[0].id))
            #expect(try payload(first[0]) == Representation.taskFinished(succeeded), "what GET /v1/tasks/{id} shows")
            #expect(try payload(first[0])["data"]?["state"] == "succeeded")
            #expect(first[0].url == "http://receiver.test/hook")
            #expect(first[0].secret == "whsec_job")
            #expect(first[0].attempt == 1)
            #expect(first[0].jobSeq == claimed[0].jobSeq)

            _ = try await store.record([result(claimed[1], status: 404, .failed(.notRetryable), body: "", at: 7)])
            let rest = try await store.claimDeliveries(limit: 10, now: 8, leaseMillis: 1_000)
            #expect(rest.count == 2)
            let failed = try #require(try await store.task(claimed[1].id))
            let taskEvent = try #require(rest.first { (try? payload($0))?["type"] == "task.finished" })
            #expect(try payload(taskEvent) == Representation.taskFinished(failed))
            #expect(try payload(taskEvent)["data"]?["state"] == "failed")
            let jobEvent = try #require(rest.first { (try? payload($0))?["type"] == "job.finished" })
            let completed = try #require(try await store.job(job.id))
            #expect(try payload(jobEvent) == Representation.jobFinished(completed))
            #expect(try payload(jobEvent)["data"]?["state"] == "completed")

            let records = try await store.allDeliveries(of: job.id)
            // The last task's event and the job's come from one change: either may be first.
            #expect(records.map(\.id).first == first[0].id)
            #expect(Set(records.map(\.id).dropFirst()) == [taskEvent.id, jobEvent.id])
            #expect(records.first { $0.id == taskEvent.id }?.taskID == claimed[1].id)
            #expect(
                records.first { $0.id == jobEvent.id }.map { $0.taskID == nil && $0.eventType == .jobFinished } == true)
            #expect(
                records.allSatisfy { $0.state == .pending && $0.attempts == 1 && $0.url == "http://receiver.test/hook" }
            )
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func onlyTheEventsAJobAskedForAreCreated(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let jobOnly = try await store.submit(
                NewJob(
                    tasks: sampleTasks(2), timeoutMillis: 1_000,
                    callback: Callback(url: "http://receiver.test/", events: [.jobFinished])),
                now: 1)
            let silent = try await store.submit(NewJob(tasks: sampleTasks(2), timeoutMillis: 1_000), now: 1)
            _ = try await store.finishAll(now: 2)
            #expect(try await store.allDeliveries(of: jobOnly.id).map(\.eventType) == [.jobFinished])
            #expect(try await store.allDeliveries(of: silent.id).isEmpty)
            let work = try await store.claimDeliveries(limit: 10, now: 3, leaseMillis: 1_000)
            #expect(work.count == 1)
            #expect(work.first?.secret == nil, "no secret of its own: the service's")
            #expect(try await store.deliveries(of: try Unknown.job(), cursor: nil, limit: 10) == nil)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aClaimedDeliveryIsLeasedUntilItsLeaseRunsOut(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try await jobWithCallback(store)
            let claimed = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            _ = try await store.record([result(claimed[0], status: 200, .succeeded, body: "")])
            let first = try await store.claimDeliveries(limit: 10, now: 10, leaseMillis: 1_000)
            #expect(first.count == 1)
            #expect(try await store.claimDeliveries(limit: 10, now: 500, leaseMillis: 1_000).isEmpty, "leased")
            // The sender died mid-send: once the lease runs out, it is handed out again.
            let again = try await store.claimDeliveries(limit: 10, now: 1_010, leaseMillis: 1_000)
            #expect(again.map(\.id) == first.map(\.id))
            #expect(again.first?.attempt == 2)
            #expect(try await store.allDeliveries(of: job.id).first?.attempts == 2)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func recordedAttemptsMoveADeliveryOn(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try await jobWithCallback(store)
            _ = try await store.finishAll(now: 2)
            // Leased until 10,010; the fourth is not answered (its sender is still at it).
            let work = try await store.claimDeliveries(limit: 10, now: 10, leaseMillis: 10_000)
            #expect(work.count == 4)
            try await store.recordDeliveries([
                deliveryResult(work[0], .delivered, status: 204, at: 11),
                deliveryResult(work[1], .retry(at: 5_000), status: 500, at: 11),
                DeliveryResult(
                    seq: work[2].seq, attempt: work[2].attempt, next: .failed, status: nil, error: "refused", at: 11),
            ])
            var records = try await store.allDeliveries(of: job.id)
            #expect(records[0].state == .delivered && records[0].deliveredAt == 11 && records[0].lastStatus == 204)
            #expect(records[0].nextAttemptAt == nil)
            #expect(records[1].state == .pending && records[1].nextAttemptAt == 5_000 && records[1].lastStatus == 500)
            #expect(records[2].state == .failed && records[2].lastError == "refused" && records[2].deliveredAt == nil)
            #expect(records[3].state == .pending, "still leased")
            // Only the retry comes back, at its time, as its second attempt.
            #expect(try await store.claimDeliveries(limit: 10, now: 4_999, leaseMillis: 100_000).isEmpty)
            let retried = try await store.claimDeliveries(limit: 10, now: 5_000, leaseMillis: 100_000)
            #expect(retried.map(\.id) == [work[1].id])
            #expect(retried.map(\.attempt) == [2])
            // A result for the attempt before is ignored.
            try await store.recordDeliveries([deliveryResult(work[1], .delivered, status: 200, at: 5_001)])
            records = try await store.allDeliveries(of: job.id)
            #expect(records[1].state == .pending && records[1].attempts == 2)
            try await store.recordDeliveries(retried.map { deliveryResult($0, .delivered, status: 200, at: 5_002) })
            // The unanswered one once its lease has run out.
            let unanswered = try await store.claimDeliveries(limit: 10, now: 10_010, leaseMillis: 1_000)
            #expect(unanswered.map(\.id) == [work[3].id])
            #expect(unanswered.map(\.attempt) == [2])
            try await store.recordDeliveries(unanswered.map { deliveryResult($0, .delivered, status: 200, at: 10_011) })
            records = try await store.allDeliveries(of: job.id)
            #expect(records.map(\.state) == [.delivered, .delivered, .failed, .delivered])
            #expect(try await store.claimDeliveries(limit: 10, now: 1_000_000, leaseMillis: 1_000).isEmpty)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func releasedDeliveriesAreDueAtOnceWithoutCountingTheAttempt(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try await jobWithCallback(store)
            _ = try await store.finishAll(now: 2)
            let work = try await store.claimDeliveries(limit: 2, now: 10, leaseMillis: 60_000)
            try await store.releaseDeliveries(work.map { (seq: $0.seq, attempt: $0.attempt) }, now: 20)
            let again = try await store.claimDeliveries(limit: 10, now: 20, leaseMillis: 60_000)
            #expect(again.count == 4)
            #expect(again.filter { work.map(\.id).contains($0.id) }.map(\.attempt) == [1, 1])
            // A release for an attempt that is not current changes nothing.
            let stale = work.map { (seq: $0.seq, attempt: $0.attempt + 1) }
            try await store.releaseDeliveries(stale, now: 21)
            #expect(try await store.claimDeliveries(limit: 10, now: 21, leaseMillis: 60_000).isEmpty)
            #expect(try await store.allDeliveries(of: job.id).map(\.attempts) == [1, 1, 1, 1])
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aDeliveryIsSentAgainByHandFromScratch(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try await jobWithCallback(store)
            let claimed = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            _ = try await store.record([result(claimed[0], status: 200, .succeeded, body: "")])
            let work = try await store.claimDeliveries(limit: 10, now: 10, leaseMillis: 1_000)
            try await store.recordDeliveries([deliveryResult(work[0], .delivered, status: 200, at: 11)])
            let again = try #require(try await store.redeliver(work[0].id, now: 50))
            #expect(again.id == work[0].id)
            #expect(again.state == .pending && again.attempts == 0 && again.deliveredAt == nil)
            #expect(again.nextAttemptAt == 50)
            let resent = try await store.claimDeliveries(limit: 10, now: 50, leaseMillis: 1_000)
            #expect(resent.map(\.id) == [work[0].id])
            #expect(resent.first?.attempt == 1)
            #expect(resent.first?.payload == work[0].payload, "the same event, not a new rendering")
            #expect(try await store.redeliver(try Unknown.delivery(), now: 60) == nil)
            #expect(try await store.allDeliveries(of: job.id).count == 1)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aGoneReceiverGetsNoEventCreatedAfterTheGone(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try await jobWithCallback(store)
            let claimed = try await store.claim(limit: 3, now: 2, leaseMarginMillis: 0)
            _ = try await store.record([result(claimed[0], status: 200, .succeeded, body: "")])
            let first = try await store.claimDeliveries(limit: 10, now: 5, leaseMillis: 1_000)
            #expect(first.count == 1)
            try await store.recordDeliveries([deliveryResult(first[0], .gone, status: 410, at: 6)])
            // The second task finishes after the 410: its event is stored failed and never handed out.
            _ = try await store.record([result(claimed[1], status: 200, .succeeded, body: "")])
            #expect(try await store.claimDeliveries(limit: 10, now: 1_000_000, leaseMillis: 1_000).isEmpty)
            let deliveries = try await store.allDeliveries(of: job.id)
            #expect(deliveries.map(\.state) == [.failed, .failed])
            #expect(deliveries[1].lastError?.contains("410 Gone") == true)

            // Sending it again by hand says the receiver is back: it and the job's later events go out.
            _ = try await store.redeliver(deliveries[1].id, now: 2_000_000)
            let again = try await store.claimDeliveries(limit: 10, now: 2_000_000, leaseMillis: 1_000)
            #expect(again.map(\.id) == [deliveries[1].id])
            try await store.recordDeliveries([deliveryResult(again[0], .delivered, status: 204, at: 2_000_001)])
            _ = try await store.record([result(claimed[2], status: 200, .succeeded, body: "")])
            let later = try await store.claimDeliveries(limit: 10, now: 3_000_000, leaseMillis: 1_000)
            #expect(later.count == 2, "the last task's event and the job's")
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aGoneReceiverFailsWhatIsPendingForItNow(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let job = try await jobWithCallback(store)
            _ = try await store.finishAll(now: 2)
            let work = try await store.claimDeliveries(limit: 1, now: 5, leaseMillis: 1_000)
            try await store.recordDeliveries([deliveryResult(work[0], .gone, status: 410, at: 6)])
            #expect(try await store.allDeliveries(of: job.id).map(\.state) == [.failed, .failed, .failed, .failed])
            #expect(try await store.claimDeliveries(limit: 10, now: 1_000_000, leaseMillis: 1_000).isEmpty)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func otherJobsKeepTheirDeliveriesWhenOneReceiverIsGone(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            _ = try await jobWithCallback(store)
            _ = try await jobWithCallback(store)
            let claimed = try await store.claim(limit: 6, now: 2, leaseMarginMillis: 0)
            _ = try await store.record([result(claimed[0], status: 200, .succeeded, body: "")])
            let first = try await store.claimDeliveries(limit: 10, now: 5, leaseMillis: 1_000)
            try await store.recordDeliveries([deliveryResult(first[0], .gone, status: 410, at: 6)])
            _ = try await store.record(claimed.dropFirst().map { result($0, status: 200, .succeeded, body: "") })
            // The second job's three task events and its job event still go out.
            #expect(try await store.claimDeliveries(limit: 10, now: 1_000_000, leaseMillis: 1_000).count == 4)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func theWebhookSecretIsGeneratedOnceAndKept(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let secrets = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<4 {
                    group.addTask { try await store.webhookSecret { "whsec_\(index)" } }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(secrets).count == 1, "one secret, whoever asked first")
            #expect(try await store.webhookSecret { "whsec_other" } == secrets.first)
        }
    }
}
