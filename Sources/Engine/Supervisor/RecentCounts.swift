/// Outcomes of a host's attempts over the last few minutes, counted in steps of `stepMillis`: a
/// few dozen counters per host, however many attempts it had.
struct RecentCounts: Sendable, Equatable {
    /// The width of one step.
    static let stepMillis: Int64 = 10_000
    /// How far back the counts reach: `GET /v1/hosts`' window, and one step more so that the step
    /// the window starts in is whole.
    static let windowMillis: Int64 = 5 * 60_000 + stepMillis

    private struct Step: Sendable, Equatable {
        let start: Int64
        var succeeded = 0
        var failed = 0
        var retried = 0
    }

    /// Oldest first, one per step that had an attempt, none older than `windowMillis` before the
    /// newest.
    private var steps: [Step] = []

    mutating func add(_ result: HostActivity.Attempt.Result, at time: Int64) {
        let start = time - ((time % Self.stepMillis) + Self.stepMillis) % Self.stepMillis
        if let newest = steps.last?.start, start <= newest - Self.windowMillis { return }
        // Attempts arrive in about the order they ended; one that ended a step late goes in its place.
        var index = (steps.lastIndex { $0.start <= start } ?? -1)
        if index < 0 || steps[index].start != start {
            index += 1
            steps.insert(Step(start: start), at: index)
        }
        switch result {
        case .succeeded: steps[index].succeeded += 1
        case .failed: steps[index].failed += 1
        case .retried: steps[index].retried += 1
        }
        if let newest = steps.last?.start, let first = steps.first, first.start <= newest - Self.windowMillis {
            steps.removeAll { $0.start <= newest - Self.windowMillis }
        }
    }

    /// The counts of the steps that start at or after the step `since` falls in.
    func total(since: Int64) -> (succeeded: Int, failed: Int, retried: Int) {
        var counts = (succeeded: 0, failed: 0, retried: 0)
        for step in steps where step.start + Self.stepMillis > since {
            counts.succeeded += step.succeeded
            counts.failed += step.failed
            counts.retried += step.retried
        }
        return counts
    }
}
