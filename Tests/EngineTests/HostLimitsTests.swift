import Store
import Testing

@testable import Engine

/// Per-host politeness as a plain value: in-flight counts, pauses, and the interval between starts.
@Suite struct HostLimitsTests {
    let now: Int64 = 1_000_000

    @Test func aHostNobodyHasSeenMayTakeTheWholeLimit() {
        let limits = HostLimits(concurrency: 4, intervalMillis: 0)
        let allowance = limits.allowance(now: now)
        #expect(allowance.defaultLimit == 4)
        #expect(allowance.remaining.isEmpty)
    }

    @Test func startedRequestsCountAgainstTheirHostOnly() {
        var limits = HostLimits(concurrency: 2, intervalMillis: 0)
        limits.started("a", now: now)
        #expect(limits.allowance(now: now).remaining == ["a": 1])
        limits.started("a", now: now)
        limits.started("a", now: now)
        limits.started("b", now: now)
        // Never below zero, even past the limit.
        #expect(limits.allowance(now: now).remaining == ["a": 0, "b": 1])
    }

    @Test func aFinishedRequestFreesItsPlaceAndAnIdleHostIsForgotten() {
        var limits = HostLimits(concurrency: 2, intervalMillis: 0)
        limits.started("a", now: now)
        limits.started("a", now: now)
        limits.finished("a", now: now)
        #expect(limits.allowance(now: now).remaining == ["a": 1])
        limits.finished("a", now: now)
        #expect(limits.allowance(now: now).remaining.isEmpty)
        limits.finished("never-seen", now: now)
        #expect(limits.allowance(now: now).remaining.isEmpty)
    }

    @Test func aPausedHostGetsNothingUntilThePauseEnds() {
        var limits = HostLimits(concurrency: 3, intervalMillis: 0)
        limits.pause("a", until: now + 5_000)
        limits.pause("a", until: now + 1_000)  // the later pause wins
        #expect(limits.allowance(now: now + 4_999).remaining == ["a": 0])
        #expect(limits.allowance(now: now + 5_000).remaining == ["a": 3])
        limits.started("a", now: now)
        limits.finished("a", now: now)
        #expect(limits.allowance(now: now).remaining == ["a": 0], "finishing a request does not end a pause")
    }

    @Test func anIntervalAllowsOneStartPerIntervalPerHost() {
        var limits = HostLimits(concurrency: 3, intervalMillis: 100)
        #expect(limits.allowance(now: now).defaultLimit == 1)
        limits.started("a", now: now)
        limits.finished("a", now: now + 10)
        #expect(limits.allowance(now: now + 99).remaining == ["a": 0])
        #expect(limits.allowance(now: now + 100).remaining == ["a": 1])
        #expect(HostLimits(concurrency: 0, intervalMillis: 100).allowance(now: now).defaultLimit == 0)
    }

    @Test func pruningForgetsOnlyIdleHostsWhosePauseIsOver() {
        var limits = HostLimits(concurrency: 3, intervalMillis: 0)
        limits.started("busy", now: now)
        limits.pause("paused", until: now + 1_000)
        limits.pause("rested", until: now)
        limits.prune(now: now)
        #expect(limits.allowance(now: now).remaining == ["busy": 2, "paused": 0])
        limits.prune(now: now + 1_000)
        #expect(limits.allowance(now: now + 1_000).remaining == ["busy": 2])
    }

    @Test func aPauseIsToldApartFromAHostWhoseSlotsAreFull() {
        var limits = HostLimits(concurrency: 1, intervalMillis: 0)
        limits.started("a", now: now)
        #expect(limits.status(of: "a", now: now) == HostLimits.Status(inFlight: 1, pausedUntil: nil, full: true))
        limits.pause("b", until: now + 5_000)
        #expect(limits.status(of: "b", now: now + 1_000) == HostLimits.Status(pausedUntil: now + 5_000, full: true))
        #expect(limits.status(of: "b", now: now + 5_000) == HostLimits.Status())
        #expect(Set(limits.tracked) == ["a", "b"])
    }

    @Test func anIntervalFillsAHostWithoutPausingIt() {
        var limits = HostLimits(concurrency: 4, intervalMillis: 1_000)
        limits.started("a", now: now)
        limits.finished("a", now: now + 10)
        #expect(limits.status(of: "a", now: now + 10) == HostLimits.Status(inFlight: 0, pausedUntil: nil, full: true))
        #expect(!limits.status(of: "a", now: now + 1_000).full)
    }
}
