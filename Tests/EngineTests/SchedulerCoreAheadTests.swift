import Store
import Testing

@testable import Engine

/// Orders sent ahead of a worker's concurrency: how many, what comes back unstarted, and the drain.
@Suite struct SchedulerCoreAheadTests {
    @Test func aWorkerIsSentItsConcurrencyAndAsManyMoreToQueue() throws {
        var harness = CoreHarness(processes: 1, concurrency: 2, ordersAhead: 2)
        #expect(harness.start().recordAndClaim?.limit == 4)
        #expect(harness.claim((1...5).map { claimedTask($0) }) == [0: [1, 2, 3, 4]])
        #expect(harness.core.capacity == 0)
        #expect(harness.core.freeFetchSlots == 0)
        // One result frees one place: the next pass claims one more.
        _ = harness.finish(1, on: harness.worker(0))
        #expect(harness.pass().recordAndClaim?.limit == 1)
    }

    @Test func queuedOrdersCountAgainstTheirHostsConcurrency() throws {
        var harness = CoreHarness(processes: 1, concurrency: 2, perHost: 3, ordersAhead: 2)
        _ = harness.start()
        _ = harness.claim((1...3).map { claimedTask($0) })
        _ = harness.handle(.wake)
        let allowance = try #require(harness.pass().recordAndClaim?.hosts)
        #expect(allowance.remaining["a.example:80"] == 0)
    }

    @Test func anUnstartedOrderGoesBackWithoutItsAttemptAndPausesOrdersAheadForThatWorker() throws {
        var harness = CoreHarness(processes: 1, concurrency: 2, leaseMarginMillis: 4_000, ordersAhead: 2)
        _ = harness.start()
        _ = harness.claim((1...4).map { claimedTask($0) })
        #expect(harness.handle(.unstarted(harness.worker(0), LeaseKey(seq: 4, attempt: 1))).isEmpty)
        let pass = harness.pass()
        #expect(pass.compactMap(\.givenBack) == [[4]])
        // Its slots are full and its queue is closed for now: nothing is claimed.
        #expect(pass.recordAndClaim == nil)
        #expect(harness.core.inFlight.count == 3)
        // A stale report (the lease is no longer out) changes nothing.
        #expect(harness.handle(.unstarted(harness.worker(0), LeaseKey(seq: 4, attempt: 1))).isEmpty)
        #expect(harness.pass().compactMap(\.givenBack).isEmpty)
        // The pause (4 × the queue's bound of margin / 4) ends with the tick after it.
        _ = harness.finish(1, on: harness.worker(0))
        _ = harness.finish(2, on: harness.worker(0))
        #expect(harness.pass().recordAndClaim?.limit == 1)
        harness.clock.advance(by: .milliseconds(4_001))
        _ = harness.handle(.tick)
        #expect(harness.pass().recordAndClaim?.limit == 3)
    }

    @Test func aGiveBackThatFailsIsTriedAgainOnTheNextPass() throws {
        var harness = CoreHarness(processes: 1, concurrency: 1, ordersAhead: 1)
        _ = harness.start()
        _ = harness.claim([claimedTask(1), claimedTask(2)])
        _ = harness.handle(.unstarted(harness.worker(0), LeaseKey(seq: 2, attempt: 1)))
        let failed = try #require(harness.pass().lazy.compactMap(\.givenBack).first)
        _ = harness.handle(.giveBackFailed(failed.map { LeaseKey(seq: $0, attempt: 1) }))
        #expect(harness.pass().compactMap(\.givenBack) == [[2]])
    }

    @Test func aShutdownAsksEveryWorkerForItsQueueAndGivesItBack() throws {
        var harness = CoreHarness(processes: 2, concurrency: 1, ordersAhead: 1)
        _ = harness.start()
        #expect(harness.claim((1...4).map { claimedTask($0) }) == [0: [1, 3], 1: [2, 4]])
        #expect(harness.handle(.shutdown).compactMap(\.handedBack) == [harness.worker(0), harness.worker(1)])
        _ = harness.handle(.unstarted(harness.worker(0), LeaseKey(seq: 3, attempt: 1)))
        _ = harness.handle(.unstarted(harness.worker(1), LeaseKey(seq: 4, attempt: 1)))
        let pass = harness.pass()
        #expect(pass.compactMap(\.givenBack) == [[3, 4]])
        #expect(pass.recordAndClaim == nil)
        // The running fetches finish within the grace period; then the workers are stopped.
        _ = harness.finish(1, on: harness.worker(0))
        _ = harness.finish(2, on: harness.worker(1))
        #expect(harness.pass().compactMap(\.stopped) == [harness.worker(0), harness.worker(1)])
    }

    @Test func hostsWithAnIntervalGetNoOrdersAhead() throws {
        var harness = CoreHarness(processes: 1, concurrency: 2, intervalMillis: 100, ordersAhead: 2)
        #expect(harness.core.configuration.ordersAhead == 0)
        #expect(harness.start().recordAndClaim?.limit == 2)
    }
}
