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
        let recent = activity.recent(since: 345)
        #expect(recent.succeeded == 9 && recent.retried == 1 && recent.failed == 1)
        #expect(activity.latencyMillis(percentile: 0.5) == 127)
        #expect(activity.latencyMillis(percentile: 0.95) == 241, "the slow attempts pushed out count no more")
        #expect(HostActivity().latencyMillis(percentile: 0.5) == nil)
    }
}
