import Foundation
import Store
import TestSupport
import Testing

@Suite struct DeliveryTests {
    /// A job of three tasks with a webhook for each task and for the job.
    private func jobWithCallback(_ store: Store) async throws -> SubmittedJob {
        try await store.submit(
            NewJob(
                tasks: (0..<3).map { sampleTask("http://example.test/\($0)") }, timeoutMillis: 1_000,
                callback: Callback(url: "http://receiver.test/hook")),
            now: 1)
    }

    @Test func aGoneReceiverGetsNoEventCreatedAfterTheGone() async throws {
        try await withTestStore { store, _ in
            let job = try await jobWithCallback(store)
            let claimed = try await store.claim(limit: 3, now: 2, leaseMarginMillis: 0)
            _ = try await store.record([result(claimed[0], status: 200, .succeeded, body: "")])
            let first = try await store.claimDeliveries(limit: 10, now: 5, leaseMillis: 1_000)
            #expect(first.count == 1)
            try await store.recordDeliveries([
                DeliveryResult(
                    seq: first[0].seq, attempt: first[0].attempt, next: .gone, status: 410, error: nil, at: 6)
            ])
            // The second task finishes after the 410: its event is stored failed and never handed out.
            _ = try await store.record([result(claimed[1], status: 200, .succeeded, body: "")])
            #expect(try await store.claimDeliveries(limit: 10, now: 1_000_000, leaseMillis: 1_000).isEmpty)
            let deliveries = try #require(try store.deliveries(of: job.id, cursor: nil, limit: 10)).deliveries
            #expect(deliveries.map(\.state) == [.failed, .failed])
            #expect(deliveries[1].lastError?.contains("410 Gone") == true)

            // Sending it again by hand says the receiver is back: it and the job's later events go out.
            _ = try await store.redeliver(deliveries[1].id, now: 2_000_000)
            let again = try await store.claimDeliveries(limit: 10, now: 2_000_000, leaseMillis: 1_000)
            #expect(again.map(\.id) == [deliveries[1].id])
            try await store.recordDeliveries([
                DeliveryResult(
                    seq: again[0].seq, attempt: again[0].attempt, next: .delivered, status: 204, error: nil,
                    at: 2_000_001)
            ])
            _ = try await store.record([result(claimed[2], status: 200, .succeeded, body: "")])
            let later = try await store.claimDeliveries(limit: 10, now: 3_000_000, leaseMillis: 1_000)
            #expect(later.count == 2, "the last task's event and the job's")
        }
    }

    @Test func otherJobsKeepTheirDeliveriesWhenOneReceiverIsGone() async throws {
        try await withTestStore { store, _ in
            _ = try await jobWithCallback(store)
            _ = try await jobWithCallback(store)
            let claimed = try await store.claim(limit: 6, now: 2, leaseMarginMillis: 0)
            _ = try await store.record([result(claimed[0], status: 200, .succeeded, body: "")])
            let first = try await store.claimDeliveries(limit: 10, now: 5, leaseMillis: 1_000)
            try await store.recordDeliveries([
                DeliveryResult(
                    seq: first[0].seq, attempt: first[0].attempt, next: .gone, status: 410, error: nil, at: 6)
            ])
            _ = try await store.record(claimed.dropFirst().map { result($0, status: 200, .succeeded, body: "") })
            // The second job's three task events and its job event still go out.
            #expect(try await store.claimDeliveries(limit: 10, now: 1_000_000, leaseMillis: 1_000).count == 4)
        }
    }
}
