import Testing

@testable import Engine

/// A host's recent attempts: the last answer, the counts over a window, and latency percentiles.
@Suite struct HostActivityTests {
    @Test func theLatestAttemptsGiveTheCountsThePercentilesAndTheLastAnswer() {
        var activity = HostActivity()
        // Slow attempts long ago, pushed out by the newer ones.
        for index in 0..<44 {
            activity.record(
                HostActivity.Attempt(at: Int64(index), result: .succeeded, durationMillis: 10_000), status: 200,
                error: nil)
        }
        for index in 0..<(HostActivity.kept - 1) {
            activity.record(
                HostActivity.Attempt(
                    at: Int64(100 + index), result: index % 10 == 0 ? .retried : .succeeded, durationMillis: index),
                status: 200, error: nil)
        }
        activity.record(
            HostActivity.Attempt(at: 1_000, result: .failed, durationMillis: nil), status: nil, error: "timeout: slow")
        #expect(activity.attempts.count == HostActivity.kept, "only the latest are kept")
        #expect(activity.lastSeenAt == 1_000 && activity.lastStatus == nil && activity.lastError == "timeout: slow")
        #expect(activity.latencyMillis(percentile: 0.5) == 127)
        #expect(activity.latencyMillis(percentile: 0.95) == 241, "the slow attempts pushed out count no more")
        #expect(HostActivity().latencyMillis(percentile: 0.5) == nil)
    }

    @Test func theRecentCountsHoldEveryAttemptOfTheWindowNotOnlyTheKeptOnes() {
        var activity = HostActivity()
        let start: Int64 = 1_800_000_000_000
        // 1,300 successes and 13 retries in two minutes: far more than the attempts kept.
        for index in 0..<1_313 {
            let at = start + Int64(index) * 120_000 / 1_313
            activity.record(
                HostActivity.Attempt(at: at, result: index % 101 == 0 ? .retried : .succeeded, durationMillis: 5),
                status: 200, error: nil)
        }
        let now = start + 120_000
        let window = HostActivityTests.windowMillis
        let recent = activity.recent(since: now - window)
        #expect(recent.succeeded == 1_300 && recent.retried == 13 && recent.failed == 0)
        // Six minutes later one failure: the two busy minutes have left the window.
        activity.record(
            HostActivity.Attempt(at: now + 360_000, result: .failed, durationMillis: nil), status: nil,
            error: "connection refused")
        let later = activity.recent(since: now + 360_000 - window)
        #expect(later.succeeded == 0 && later.retried == 0 && later.failed == 1)
    }

    @Test func anAttemptThatEndedAStepLateIsCountedInItsPlace() {
        var activity = HostActivity()
        let start: Int64 = 1_800_000_000_000
        activity.record(
            HostActivity.Attempt(at: start + 30_000, result: .succeeded, durationMillis: 1), status: 200, error: nil)
        activity.record(HostActivity.Attempt(at: start, result: .failed, durationMillis: 1), status: 500, error: nil)
        #expect(activity.recent(since: start + 20_000) == (succeeded: 1, failed: 0, retried: 0))
        #expect(activity.recent(since: start) == (succeeded: 1, failed: 1, retried: 0))
    }

    /// `GET /v1/hosts`' window.
    static let windowMillis: Int64 = 5 * 60_000
}
