import Store
import Testing

@testable import Engine

/// The scheduler's dispatch decisions, with no processes and no database.
@Suite struct SchedulerCoreDispatchTests {
    @Test func startLaunchesEverySlotThenClaimsWhatTheWorkersCanTake() throws {
        var harness = CoreHarness(processes: 2, concurrency: 3)
        let launches = harness.core.start()
        #expect(launches.launches == [WorkerRef(slot: 0, generation: 1), WorkerRef(slot: 1, generation: 1)])
        // Nothing is claimed for a worker that has not started.
        _ = harness.handle(.launched(WorkerRef(slot: 0, generation: 1)))
        #expect(harness.core.capacity == 3)
        _ = harness.handle(.launched(WorkerRef(slot: 1, generation: 1)))
        let pass = try #require(harness.pass().recordAndClaim)
        #expect(pass.limit == 6)
        #expect(pass.results.isEmpty)
        #expect(pass.now == harness.clock.now.wallMillis)
    }

    @Test func claimedTasksGoInTheStoresOrderToTheLeastLoadedWorker() throws {
        var harness = CoreHarness(processes: 2, concurrency: 3)
        _ = harness.start()
        #expect(harness.claim((1...5).map { claimedTask($0) }) == [0: [1, 3, 5], 1: [2, 4]])
        // Worker 0 finishes one: both hold two, and ties go to the lower slot.
        _ = harness.finish(1, on: harness.worker(0))
        #expect(harness.pass().recordAndClaim?.limit == 2)
        #expect(harness.claim([claimedTask(6), claimedTask(7)]) == [0: [6], 1: [7]])
    }

    @Test func aLessLoadedWorkerIsFilledFirst() throws {
        var harness = CoreHarness(processes: 2, concurrency: 4)
        _ = harness.start()
        #expect(harness.claim((1...4).map { claimedTask($0) }) == [0: [1, 3], 1: [2, 4]])
        _ = harness.finish(2, on: harness.worker(1))
        _ = harness.finish(4, on: harness.worker(1))
        _ = harness.pass()
        #expect(harness.claim((5...8).map { claimedTask($0) }) == [0: [7], 1: [5, 6, 8]])
    }

    @Test func ordersCarryTheRequestAsClaimed() throws {
        var harness = CoreHarness(processes: 1)
        _ = harness.start()
        let dispatch = try #require(harness.handle(.claimed([claimedTask(9, attempt: 2)])).first?.dispatch)
        #expect(dispatch.worker == harness.worker(0))
        #expect(dispatch.tasks.map(\.description) == ["task-9"])
        let order = try #require(dispatch.orders.first?.fetch)
        #expect(
            order
                == FetchOrder(
                    lease: LeaseKey(seq: 9, attempt: 2), url: "http://a.example:80/9", method: "POST",
                    headers: [HeaderField("X-N", "9")], body: [1, 2], timeoutMillis: 1_000, maxBodyBytes: 4_096))
    }

    @Test func tasksBeyondEveryWorkersConcurrencyAreNotDispatched() throws {
        var harness = CoreHarness(processes: 1, concurrency: 2)
        _ = harness.start()
        #expect(harness.claim((1...3).map { claimedTask($0) }) == [0: [1, 2]])
        #expect(harness.core.capacity == 0)
    }

    @Test func aPassClaimsOnlyWhenSomethingMayHaveBroughtWork() throws {
        var harness = CoreHarness()
        _ = harness.start()
        #expect(harness.pass().isEmpty)
        _ = harness.handle(.abort([42]))
        #expect(harness.pass().isEmpty)
        _ = harness.handle(.wake)
        #expect(harness.pass().recordAndClaim?.limit == 6)
        _ = harness.handle(.tick)
        #expect(harness.pass().recordAndClaim?.limit == 6)
    }

    @Test func aResultIsRecordedOnTheNextPassAndFreesItsPlace() throws {
        var harness = CoreHarness(processes: 1, concurrency: 2)
        _ = harness.start()
        _ = harness.claim([claimedTask(1), claimedTask(2)])
        let actions = harness.finish(
            1, on: harness.worker(0), status: 200, headers: [HeaderField("Content-Type", "text/plain")])
        guard case .attemptFinished(_, _, .some(200), nil, .succeeded, _) = try #require(actions.first?.note) else {
            Issue.record("no note of the finished attempt")
            return
        }
        let pass = try #require(harness.pass().recordAndClaim)
        #expect(pass.limit == 1)
        #expect(pass.results.map(\.seq) == [1])
        #expect(pass.results.first?.disposition == .succeeded)
        #expect(pass.results.first?.outcome.headers == [HeaderField("Content-Type", "text/plain")], "as received")
        #expect(pass.results.first?.body?.contentType == "text/plain")
        #expect(pass.results.first?.finishedAt == harness.clock.now.wallMillis)
        // Handed over: the next pass has nothing to record.
        #expect(harness.pass().isEmpty)
    }

    @Test func aResultFromAnotherWorkerOrTwiceIsIgnored() throws {
        var harness = CoreHarness(processes: 2)
        _ = harness.start()
        _ = harness.claim([claimedTask(1)])
        #expect(harness.finish(1, on: harness.worker(1)).isEmpty)
        #expect(harness.finish(1, attempt: 2, on: harness.worker(0)).isEmpty)
        #expect(!harness.finish(1, on: harness.worker(0)).isEmpty)
        #expect(harness.finish(1, on: harness.worker(0)).isEmpty)
        #expect(harness.pass().recordAndClaim?.results.count == 1)
    }

    @Test func resultsThatCouldNotBeRecordedAreTriedAgain() throws {
        var harness = CoreHarness(processes: 1)
        _ = harness.start()
        _ = harness.claim([claimedTask(1), claimedTask(2)])
        _ = harness.finish(1, on: harness.worker(0))
        let failed = try #require(harness.pass().recordAndClaim)
        _ = harness.handle(.recordFailed(failed.results))
        _ = harness.finish(2, on: harness.worker(0))
        #expect(harness.pass().recordAndClaim?.results.map(\.seq) == [1, 2])
    }

    @Test func abortCancelsOnTheWorkerHoldingTheTask() throws {
        var harness = CoreHarness(processes: 2)
        _ = harness.start()
        _ = harness.claim([claimedTask(1), claimedTask(2), claimedTask(3)])
        let canceled = harness.handle(.abort([2, 99])).compactMap(\.canceled)
        #expect(canceled.count == 1)
        #expect(canceled.first?.0 == LeaseKey(seq: 2, attempt: 1))
        #expect(canceled.first?.1 == harness.worker(1))
    }
}

/// Per-host politeness as the scheduler applies it: the allowance it claims with, and pauses.
@Suite struct SchedulerCoreHostTests {
    @Test func theAllowanceCountsWhatEachHostHasInFlight() throws {
        var harness = CoreHarness(processes: 1, concurrency: 8, perHost: 3)
        let first = try #require(harness.start().recordAndClaim)
        #expect(first.hosts.defaultLimit == 3)
        #expect(first.hosts.remaining.isEmpty)
        _ = harness.claim([claimedTask(1, host: "a"), claimedTask(2, host: "a"), claimedTask(3, host: "b")])
        _ = harness.handle(.wake)
        #expect(harness.pass().recordAndClaim?.hosts.remaining == ["a": 1, "b": 2])
        _ = harness.finish(1, on: harness.worker(0))
        #expect(harness.pass().recordAndClaim?.hosts.remaining == ["a": 2, "b": 2])
    }

    @Test func aHostThatAsksForAPauseGetsNothingUntilItEnds() throws {
        var harness = CoreHarness(processes: 1, concurrency: 8, perHost: 3)
        _ = harness.start()
        _ = harness.claim([claimedTask(1, host: "a"), claimedTask(2, host: "b")])
        _ = harness.finish(1, on: harness.worker(0), status: 429, headers: [HeaderField("Retry-After", "5")])
        let pass = try #require(harness.pass().recordAndClaim)
        #expect(pass.results.first?.disposition == .retry(at: harness.clock.now.wallMillis + 5_000))
        #expect(pass.hosts.remaining == ["a": 0, "b": 2])
        harness.clock.advance(by: .milliseconds(4_999))
        _ = harness.handle(.tick)
        #expect(harness.pass().recordAndClaim?.hosts.remaining["a"] == 0)
        harness.clock.advance(by: .milliseconds(1))
        _ = harness.handle(.tick)
        #expect(harness.pass().recordAndClaim?.hosts.remaining == ["b": 2])
    }

    @Test func a429WithoutRetryAfterPausesTheHostUntilItsRetry() throws {
        var harness = CoreHarness(processes: 1, concurrency: 8, perHost: 3)
        _ = harness.start()
        _ = harness.claim([claimedTask(1, host: "a")])
        _ = harness.finish(1, on: harness.worker(0), status: 429)
        let pass = try #require(harness.pass().recordAndClaim)
        guard case .retry(let at) = pass.results.first?.disposition else {
            Issue.record("a 429 with attempts left is retried")
            return
        }
        #expect(harness.core.hosts.allowance(now: at - 1).remaining["a"] == 0)
        #expect(harness.core.hosts.allowance(now: at).remaining["a"] == 3)
    }

    @Test func a503WithoutRetryAfterDoesNotPauseTheHost() throws {
        var harness = CoreHarness(processes: 1, concurrency: 8, perHost: 3)
        _ = harness.start()
        _ = harness.claim([claimedTask(1, host: "a")])
        _ = harness.finish(1, on: harness.worker(0), status: 503)
        #expect(harness.pass().recordAndClaim?.hosts.remaining.isEmpty == true)
    }

    @Test func anIntervalAllowsOneRequestPerHostAtATime() throws {
        var harness = CoreHarness(processes: 1, concurrency: 8, perHost: 3, intervalMillis: 100)
        #expect(harness.start().recordAndClaim?.hosts.defaultLimit == 1)
        _ = harness.claim([claimedTask(1, host: "a")])
        _ = harness.finish(1, on: harness.worker(0))
        #expect(harness.pass().recordAndClaim?.hosts.remaining == ["a": 0])
        harness.clock.advance(by: .milliseconds(100))
        _ = harness.handle(.tick)
        #expect(harness.pass().recordAndClaim?.hosts.remaining.isEmpty == true)
    }
}
