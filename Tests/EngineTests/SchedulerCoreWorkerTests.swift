import Store
import Testing

@testable import Engine

/// Lost, dying and stuck workers as the scheduler handles them, with no processes.
@Suite struct SchedulerCoreWorkerTests {
    @Test func aDeadWorkersTasksAreReturnedAndTheWorkerRestarted() throws {
        var harness = CoreHarness(processes: 2, concurrency: 3, perHost: 5)
        _ = harness.start()
        _ = harness.claim((1...3).map { claimedTask($0, host: "a") })
        let dead = harness.worker(0)
        let actions = harness.handle(.exited(dead, .signaled(9), nil))
        guard case .workerLost(dead, .signaled(9), nil, 2) = try #require(actions.first?.note) else {
            Issue.record("no note of the lost worker")
            return
        }
        #expect(actions.launches == [WorkerRef(slot: 0, generation: 2)])
        _ = harness.handle(.launched(WorkerRef(slot: 0, generation: 2)))
        // A late result of the dead generation is not taken.
        #expect(harness.finish(1, on: dead).isEmpty)
        let pass = harness.pass()
        #expect(pass.first?.returnedLost == [1, 3])
        let claim = try #require(pass.recordAndClaim)
        #expect(claim.limit == 5)
        #expect(claim.hosts.remaining == ["a": 4])
        // Returned once: a failure hands them back for the next pass.
        _ = harness.handle(.returnLostFailed([LeaseKey(seq: 1, attempt: 1), LeaseKey(seq: 3, attempt: 1)]))
        #expect(harness.pass().first?.returnedLost == [1, 3])
        #expect(harness.pass().isEmpty)
    }

    @Test func anExitOfAnEarlierGenerationIsIgnored() throws {
        var harness = CoreHarness(processes: 1)
        _ = harness.start()
        _ = harness.handle(.exited(harness.worker(0), .exited(1), "pipe closed"))
        _ = harness.handle(.launched(harness.worker(0)))
        _ = harness.pass()
        #expect(harness.handle(.exited(WorkerRef(slot: 0, generation: 1), .exited(1), nil)).isEmpty)
        #expect(harness.core.slots[0].running)
    }

    @Test func aWorkerThatKeepsDyingYoungIsRestartedAfterAGrowingPause() throws {
        var harness = CoreHarness(processes: 1)
        _ = harness.start()
        // The first quick death restarts at once.
        #expect(harness.handle(.exited(harness.worker(0), .exited(1), nil)).launches.count == 1)
        for pause in [400, 800, 1_600, 3_200, 5_000, 5_000] {
            _ = harness.handle(.launched(harness.worker(0)))
            harness.clock.advance(by: .seconds(1))
            #expect(harness.handle(.exited(harness.worker(0), .exited(1), nil)).launches.isEmpty)
            harness.clock.advance(by: .milliseconds(pause - 1))
            #expect(harness.handle(.tick).launches.isEmpty, "restarted before its \(pause) ms pause")
            harness.clock.advance(by: .milliseconds(1))
            #expect(harness.handle(.tick).launches.count == 1, "not restarted after its \(pause) ms pause")
        }
    }

    @Test func aWorkerThatLivedLongIsRestartedAtOnce() throws {
        var harness = CoreHarness(processes: 1)
        _ = harness.start()
        for _ in 0..<3 {
            harness.clock.advance(by: .milliseconds(5_001))
            #expect(harness.handle(.exited(harness.worker(0), .signaled(9), nil)).launches.count == 1)
            _ = harness.handle(.launched(harness.worker(0)))
        }
        #expect(harness.core.slots[0].quickDeaths == 0)
    }

    @Test func aWorkerThatCannotBeStartedIsTriedAgainASecondLater() throws {
        var harness = CoreHarness(processes: 1)
        let first = try #require(harness.core.start().launches.first)
        _ = harness.handle(.launchFailed(first))
        #expect(harness.pass().isEmpty)
        harness.clock.advance(by: .milliseconds(999))
        #expect(harness.handle(.tick).launches.isEmpty)
        harness.clock.advance(by: .milliseconds(1))
        let second = try #require(harness.handle(.tick).launches.first)
        #expect(second == WorkerRef(slot: 0, generation: 2))
        _ = harness.handle(.launched(second))
        #expect(harness.pass().recordAndClaim?.limit == 3)
    }

    @Test func aWorkerHoldingATaskPastItsTimeoutAndLeaseMarginIsKilled() throws {
        var harness = CoreHarness(processes: 2, leaseMarginMillis: 500)
        _ = harness.start()
        _ = harness.claim([claimedTask(1, timeoutMillis: 1_000), claimedTask(2, timeoutMillis: 60_000)])
        harness.clock.advance(by: .milliseconds(1_500))
        #expect(harness.handle(.tick).compactMap(\.killed).isEmpty)
        harness.clock.advance(by: .milliseconds(1))
        let killed = harness.handle(.tick).compactMap(\.killed)
        #expect(killed.map(\.0) == [harness.worker(0)])
        guard case .stuck(let tasks) = killed.first?.1 else {
            Issue.record("killed for another reason")
            return
        }
        #expect(tasks.map(\.description) == ["task-1"])
        // Its exit returns the task, counting the attempt.
        _ = harness.handle(.exited(harness.worker(0), .signaled(9), nil))
        #expect(harness.pass().first?.returnedLost == [1])
    }
}

/// The drain on shutdown: no new work, in-flight work finishes until the grace period ends.
@Suite struct SchedulerCoreDrainTests {
    @Test func drainingClaimsNothingAndLetsInFlightTasksFinish() throws {
        var harness = CoreHarness(processes: 2, concurrency: 3, graceMillis: 1_000)
        _ = harness.start()
        _ = harness.claim([claimedTask(1), claimedTask(2)])
        guard case .draining(2, 1_000) = try #require(harness.handle(.shutdown).first?.note) else {
            Issue.record("no note of the drain")
            return
        }
        #expect(harness.core.phase == .draining(until: harness.clock.now.instant + .seconds(1)))
        _ = harness.handle(.wake)
        #expect(harness.pass().isEmpty)
        _ = harness.finish(1, on: harness.worker(0))
        let recording = harness.pass()
        #expect(recording.recordAndClaim?.limit == 0)
        #expect(recording.recordAndClaim?.results.map(\.seq) == [1])
        #expect(recording.compactMap(\.stopped).isEmpty)
        // The last one finishes: its result is recorded, then every worker is stopped.
        _ = harness.finish(2, on: harness.worker(1))
        let last = harness.pass()
        #expect(last.recordAndClaim?.results.map(\.seq) == [2])
        #expect(last.compactMap(\.returnedInFlight).isEmpty)
        #expect(last.compactMap(\.stopped) == [harness.worker(0), harness.worker(1)])
        #expect(harness.core.phase == .stopping(killAt: harness.clock.now.instant + .seconds(3)))
        _ = harness.handle(.exited(harness.worker(0), .exited(0), nil))
        #expect(harness.pass().isEmpty)
        #expect(!harness.core.isFinished)
        _ = harness.handle(.exited(harness.worker(1), .exited(0), nil))
        #expect(harness.pass().isEmpty)
        #expect(harness.core.isFinished)
    }

    @Test func atTheEndOfTheGraceInFlightTasksGoBackWithoutCountingTheAttempt() throws {
        var harness = CoreHarness(processes: 1, graceMillis: 1_000)
        _ = harness.start()
        _ = harness.claim([claimedTask(2), claimedTask(1)])
        _ = harness.handle(.shutdown)
        harness.clock.advance(by: .milliseconds(999))
        _ = harness.handle(.tick)
        #expect(harness.pass().isEmpty)
        harness.clock.advance(by: .milliseconds(1))
        _ = harness.handle(.tick)
        let end = harness.pass()
        #expect(end.compactMap(\.returnedInFlight) == [[1, 2]])
        #expect(end.compactMap(\.returnedLost).isEmpty)
        #expect(end.compactMap(\.stopped) == [harness.worker(0)])
        // A result after the end is not recorded: its task was returned.
        _ = harness.finish(1, on: harness.worker(0))
        #expect(harness.pass().isEmpty)
    }

    @Test func aWorkerThatDiesWhileDrainingIsNotRestarted() throws {
        var harness = CoreHarness(processes: 2, graceMillis: 1_000)
        _ = harness.start()
        _ = harness.claim([claimedTask(1), claimedTask(2)])
        _ = harness.handle(.shutdown)
        #expect(harness.handle(.exited(harness.worker(0), .signaled(9), nil)).isEmpty)
        let pass = harness.pass()
        #expect(pass.first?.returnedLost == [1])
        #expect(pass.compactMap(\.stopped).isEmpty)
        harness.clock.advance(by: .seconds(10))
        #expect(harness.handle(.tick).launches.isEmpty)
    }

    @Test func workersThatDoNotStopInTimeAreKilled() throws {
        var harness = CoreHarness(processes: 2)
        _ = harness.start()
        _ = harness.handle(.shutdown)
        #expect(harness.pass().compactMap(\.stopped).count == 2)
        _ = harness.handle(.exited(harness.worker(1), .exited(0), nil))
        harness.clock.advance(by: .milliseconds(2_999))
        _ = harness.handle(.tick)
        #expect(harness.pass().isEmpty)
        harness.clock.advance(by: .milliseconds(1))
        _ = harness.handle(.tick)
        let kills = harness.pass().compactMap(\.killed)
        #expect(kills.map(\.0) == [harness.worker(0)])
        #expect(kills.first?.1 == .didNotStop)
        _ = harness.handle(.exited(harness.worker(0), .signaled(9), nil))
        _ = harness.pass()
        #expect(harness.core.isFinished)
    }

    @Test func aShutdownWithNothingRunningStopsAtOnce() throws {
        var harness = CoreHarness(processes: 1)
        let first = try #require(harness.core.start().launches.first)
        _ = harness.handle(.launchFailed(first))
        _ = harness.handle(.shutdown)
        _ = harness.pass()
        #expect(harness.core.isFinished)
    }
}
