import Foundation
import TestSupport

/// What a soak found: the figures it prints, and every check that failed.
struct SoakReport {
    private(set) var lines: [String] = []
    private(set) var problems: [String] = []

    mutating func figure(_ name: String, _ value: Any) { lines.append("  \(name): \(value)") }

    /// Records `problem` unless `holds`.
    mutating func check(_ holds: Bool, _ problem: @autoclosure () -> String) {
        if !holds { problems.append(problem()) }
    }

    var text: String {
        (["soak figures:"] + lines
            + (problems.isEmpty ? ["soak: every check passed"] : problems.map { "  FAILED: \($0)" }))
            .joined(separator: "\n")
    }

    /// Every state present, absent ones as 0, so that counts from different places compare equal.
    static func complete(_ counts: StateCounts?) -> StateCounts {
        Dictionary(uniqueKeysWithValues: taskStates.map { ($0, counts?[$0] ?? 0) })
    }

    static func total(_ views: some Sequence<StateCounts>) -> StateCounts {
        views.reduce(into: complete(nil)) { sum, counts in
            for (state, count) in counts { sum[state, default: 0] += count }
        }
    }

    /// `succeeded 49,000, failed 1,000` for the states that have tasks.
    static func describe(_ counts: StateCounts) -> String {
        taskStates.compactMap { state in counts[state].flatMap { $0 > 0 ? "\(state) \($0)" : nil } }
            .joined(separator: ", ")
    }

    /// The API's, the receiver's and the store's views of the soak's jobs, checked against each other.
    mutating func compare(
        jobs: [SoakJob], api: [String: APIJobView], receiver: WebhookReceiver.Summary, store: StoreView
    ) {
        let allTasks = jobs.reduce(0) { $0 + $1.taskIDs.count }
        figure("jobs submitted / stored", "\(jobs.count) / \(store.jobs)")
        check(store.jobs == jobs.count, "the store holds \(store.jobs) jobs, \(jobs.count) were submitted")
        let apiTotal = Self.total(api.values.map(\.counts))
        figure("tasks by state, GET /v1/jobs/{id}", Self.describe(apiTotal))
        figure("tasks by state, tasks list (paged)", Self.describe(Self.total(api.values.map(\.listed))))
        figure("tasks by state, store", Self.describe(Self.total(store.counted.values)))
        check(apiTotal["queued"] == 0 && apiTotal["running"] == 0, "tasks not final: \(Self.describe(apiTotal))")
        check(
            Self.total(store.counted.values)["running"] == 0 && Self.total(store.counted.values)["queued"] == 0,
            "tasks not final in the store")
        var disagreeing: [String] = []
        var missingFromList = 0
        for job in jobs {
            let view = api[job.id]
            let counts = Self.complete(view?.counts)
            if counts != Self.complete(view?.listed) || counts != Self.complete(store.counted[job.id])
                || counts != Self.complete(store.counters[job.id]) || view?.state != "completed"
            {
                disagreeing.append(job.id)
            }
            missingFromList += Set(job.taskIDs).subtracting(view?.listedIDs ?? []).count
        }
        figure("jobs whose API, list and store counts disagree", disagreeing.count)
        check(disagreeing.isEmpty, "counts disagree for jobs \(disagreeing.prefix(5))")
        check(missingFromList == 0, "\(missingFromList) submitted tasks missing from the tasks lists")
        let overMax = api.values.reduce(0) { $0 + $1.overMaxAttempts }
        let receiverOverMax = jobs.reduce(0) { sum, job in
            sum + job.taskIDs.count { (receiver.tasks[$0]?.attempts ?? 0) > job.maxAttempts }
        }
        figure(
            "tasks with attempts > max_attempts (list / webhooks / store / attempt rows)",
            "\(overMax) / \(receiverOverMax) / \(store.overMaxAttempts) / \(store.attemptRowsOverMax)")
        check(
            overMax + receiverOverMax + store.overMaxAttempts + store.attemptRowsOverMax == 0,
            "attempts above max_attempts")
        figure("attempts (sum over tasks / attempt rows)", "\(store.attempts) / \(store.attemptRows)")
        figure("succeeded tasks whose stored status or body is not the target's 200", store.wrongSuccesses)
        check(store.wrongSuccesses == 0, "\(store.wrongSuccesses) succeeded tasks with a wrong status or body")
        figure(
            "endings",
            store.endings.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        let undelivered = jobs.reduce(0) { sum, job in sum + job.taskIDs.count { receiver.tasks[$0] == nil } }
        let jobsUndelivered = jobs.count { !receiver.jobs.contains($0.id) }
        let notFinal = receiver.tasks.values.count { !["succeeded", "failed", "canceled"].contains($0.state) }
        figure(
            "webhooks seen by the receiver",
            "\(receiver.calls) calls, \(receiver.failedAnswers) answered 500, \(receiver.invalid) unverified;"
                + " task.finished delivered for \(allTasks - undelivered) of \(allTasks) tasks,"
                + " job.finished for \(jobs.count - jobsUndelivered) of \(jobs.count) jobs")
        figure(
            "deliveries in the store",
            store.deliveries.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        check(undelivered == 0, "\(undelivered) tasks without a delivered task.finished")
        check(jobsUndelivered == 0, "\(jobsUndelivered) jobs without a delivered job.finished")
        check(
            notFinal == 0 && receiver.invalid == 0,
            "\(notFinal) task.finished not final, \(receiver.invalid) unverified")
        figure("PRAGMA integrity_check", store.integrity)
        check(store.integrity == "ok", "integrity_check: \(store.integrity)")
    }
}
