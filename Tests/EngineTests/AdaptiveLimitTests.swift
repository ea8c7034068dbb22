import Testing

@testable import Engine
@testable import Store

/// A host's limit adapts to how it copes: halved by a sign of overload (once per burst), grown back
/// by one per run of good answers, up to the ceiling; fixed when adapting is off.
@Suite struct AdaptiveLimitTests {
    @Test func aBurstOfFailuresHalvesTheLimitOnce() {
        var limits = HostLimits(concurrency: 16, intervalMillis: 0, adaptive: true)
        let first = limits.observed("a", overloaded: true, latencyMillis: 200, now: 1_000)
        #expect(first)
        #expect(limits.limit(of: "a") == 8)
        // The other requests of the same burst, sent before the decrease, fail too: no further halving.
        let again = (1...7).map { limits.observed("a", overloaded: true, latencyMillis: 200, now: 1_000 + Int64($0)) }
        #expect(again.allSatisfy { !$0 })
        #expect(limits.limit(of: "a") == 8)
        // A request sent after the decrease that fails halves it again.
        let later = limits.observed("a", overloaded: true, latencyMillis: 150, now: 1_200)
        #expect(later)
        #expect(limits.limit(of: "a") == 4)
        for step in 0..<10 {
            _ = limits.observed("a", overloaded: true, latencyMillis: 0, now: 2_000 + Int64(step) * 1_000)
        }
        #expect(limits.limit(of: "a") == 1, "never below 1")
    }

    @Test func goodAnswersGrowItBackByOnePerRunOfLimit() {
        var limits = HostLimits(concurrency: 6, intervalMillis: 0, adaptive: true)
        _ = limits.observed("a", overloaded: true, latencyMillis: 10, now: 0)
        #expect(limits.limit(of: "a") == 3)
        var now: Int64 = 1_000
        func answer(_ count: Int) {
            for _ in 0..<count {
                now += 1
                _ = limits.observed("a", overloaded: false, latencyMillis: 10, now: now)
            }
        }
        answer(2)
        #expect(limits.limit(of: "a") == 3)
        answer(1)
        #expect(limits.limit(of: "a") == 4)
        answer(4)
        #expect(limits.limit(of: "a") == 5)
        answer(100)
        #expect(limits.limit(of: "a") == 6, "never above the ceiling")
        let changes = limits.takeLimitChanges()
        #expect(changes == ["a": 6])
    }

    @Test func theAllowanceFollowsTheAdaptedLimit() {
        var limits = HostLimits(concurrency: 8, intervalMillis: 0, adaptive: true)
        _ = limits.observed("a", overloaded: true, latencyMillis: 10, now: 0)
        #expect(limits.allowance(now: 1).remaining == ["a": 4])
        limits.started("a", now: 1)
        #expect(limits.allowance(now: 1).remaining == ["a": 3])
        #expect(limits.status(of: "a", now: 1).full == false)
    }

    @Test func withAdaptingOffTheLimitStaysTheCeiling() {
        var limits = HostLimits(concurrency: 8, intervalMillis: 0, adaptive: false)
        let lowered = limits.observed("a", overloaded: true, latencyMillis: 10, now: 0)
        #expect(!lowered)
        #expect(limits.limit(of: "a") == 8)
        #expect(limits.allowance(now: 1).remaining.isEmpty)
    }

    @Test func aHostThatWentAwayIsForgottenAfterAnHour() {
        var limits = HostLimits(concurrency: 8, intervalMillis: 0, adaptive: true)
        for index in 0..<500 { _ = limits.observed("h\(index)", overloaded: true, latencyMillis: 10, now: 0) }
        #expect(limits.adapted.count == 500)
        limits.prune(now: HostLimits.adaptiveMemoryMillis)
        #expect(limits.adapted.isEmpty)
    }

    @Test func the503sOfAnOverloadedHostLowerItsLimitInTheCore() throws {
        var harness = CoreHarness(processes: 1, concurrency: 16, perHost: 16, adaptive: true)
        _ = harness.start()
        _ = harness.claim((1...4).map { claimedTask(Int64($0), host: "a") })
        for seq in 1...4 { _ = harness.finish(Int64(seq), on: harness.worker(0), status: 503) }
        #expect(harness.pass().recordAndClaim?.hosts.remaining["a"] == 8)
    }
}
