import StoreSQLite
import TestSupport
import Testing

@testable import Engine
@testable import Store

/// Backoffs draw their jitter from the source the engine is given: a seeded source makes the waits
/// a test (or an operator reproducing a schedule) can name, and they stay inside their bounds.
@Suite struct JitterTests {
    /// The moments at which a failing task's attempts are retried, on a core with `jitter`.
    private func retryMoments(jitter: JitterSource) throws -> [Int64] {
        var harness = CoreHarness(processes: 1, concurrency: 8, perHost: 8, jitter: jitter)
        _ = harness.start()
        var moments: [Int64] = []
        for attempt in 1...4 {
            _ = harness.claim([claimedTask(1, host: "a", attempt: attempt, maxAttempts: 5)])
            _ = harness.finish(1, attempt: attempt, on: harness.worker(0), status: 500)
            let pass = try #require(harness.pass().recordAndClaim)
            guard case .retry(let at) = pass.results.first?.disposition else {
                Issue.record("a 500 with attempts left is retried")
                return moments
            }
            moments.append(at - harness.clock.now.wallMillis)
        }
        return moments
    }

    @Test func theSameSeedRetriesAFailingTaskAfterTheSameWaits() throws {
        let first = try retryMoments(jitter: .seeded(42))
        let second = try retryMoments(jitter: .seeded(42))
        let other = try retryMoments(jitter: .seeded(7))
        #expect(first.count == 4)
        #expect(first == second)
        #expect(first != other)
        // Full jitter under base 1 s doubling: attempt n waits at most 2^(n-1) s.
        for (index, wait) in first.enumerated() { #expect((0...(1_000 << index)).contains(Int(wait))) }
    }

    @Test func aWebhookRetryWaitsItsScheduleWithinTwentyPercent() async throws {
        try await withTestStore { store, _ in try webhookWaits(store) }
    }

    private func webhookWaits(_ store: SQLiteStore) throws {
        func waits(seed: UInt64) throws -> [Int64] {
            let configuration = WebhookConfiguration(
                secret: WebhookSigner.generateSecret(), timeoutMillis: 1_000, retryScheduleMillis: [10_000, 60_000],
                concurrency: 1, userAgent: "fetchq-test", destinations: DestinationGuard(allowPrivateTargets: true),
                trustRoots: nil, jitter: .seeded(seed))
            let dispatcher = try WebhookDispatcher(
                store: store, configuration: configuration, logger: .init(label: "t"))
            return (1...2).compactMap { attempt in
                guard case .retry(let at) = dispatcher.nextStep(status: 500, retryAfter: nil, attempt: attempt, now: 0)
                else { return nil }
                return at
            }
        }
        let first = try waits(seed: 1)
        #expect(first == (try waits(seed: 1)))
        #expect(first != (try waits(seed: 2)))
        #expect(first.count == 2)
        #expect((8_000...12_000).contains(first[0]))
        #expect((48_000...72_000).contains(first[1]))
    }
}
