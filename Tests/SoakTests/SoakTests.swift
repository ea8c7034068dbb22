import Foundation
import Spawn
import TestSupport
import Testing

private let soakSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/// The chaos soak (issue #16): tasks against a misbehaving target, webhooks to a receiver that
/// fails a third of its calls, while workers and the whole service are killed and restarted.
/// `make test` runs the short plan; `make soak` the 50,000-task one (`FETCHQ_SOAK_TASKS`).
@Suite struct SoakTests {
    @Test func everyTaskEndsFinalAndReportedThroughWorkerAndServiceKills() async throws {
        let plan = SoakPlan.fromEnvironment()
        print(plan)
        let started = ContinuousClock.now
        let deadline = started + plan.deadline
        let target = try await ChaosTarget(seed: plan.seed, ports: plan.targetPorts, hangMillis: plan.hangMillis)
        defer { target.stop() }
        let receiver = try await WebhookReceiver(secret: soakSecret, seed: plan.seed, summaryOnly: true)
        defer { receiver.stop() }
        try await withTemporaryDirectory { directory in
            let database = directory.appending(path: "soak.db")
            let service = try await SoakService(
                database: database,
                arguments: [
                    "--processes", "2", "--concurrency", "96", "--per-host-concurrency", "48",
                    "--shutdown-grace-ms", "3000", "--webhook-secret", soakSecret, "--webhook-timeout-ms", "5000",
                    "--webhook-retry-schedule-ms", Array(repeating: "250", count: 30).joined(separator: ","),
                ])
            let jobs = SoakJobs()
            let report: SoakReport
            do {
                try await withThrowingTaskGroup { group in
                    group.addTask {
                        try await jobs.submitAll(
                            plan, service: service, targets: target.baseURLs,
                            callbackURL: "\(receiver.baseURL)/random/\(plan.receiverFailurePercent)", deadline: deadline
                        )
                    }
                    try await SoakChaos(plan: plan, service: service, jobs: jobs).run(until: deadline)
                    try await group.waitForAll()
                }
                report = try await Self.verdict(
                    plan, service: service, submitter: jobs, receiver: receiver, target: target,
                    database: database, started: started, deadline: deadline)
            } catch {
                let log = await service.current.log
                _ = await service.stop()
                Issue.record("soak (seed \(plan.seed)) stopped: \(error)\nlast service log:\n\(log.suffix(6_000))")
                return
            }
            print(report.text)
            for problem in report.problems { Issue.record("soak (seed \(plan.seed)): \(problem)") }
        }
    }

    /// Waits for the webhooks, reads the API, stops the service, reads the file, and compares.
    private static func verdict(
        _ plan: SoakPlan, service: SoakService, submitter: SoakJobs, receiver: WebhookReceiver, target: ChaosTarget,
        database: URL, started: ContinuousClock.Instant, deadline: ContinuousClock.Instant
    ) async throws -> SoakReport {
        let finalAt = ContinuousClock.now
        let jobs = await submitter.submitted
        let taskIDs = jobs.flatMap(\.taskIDs)
        var summary = try await receiver.summary()
        while taskIDs.contains(where: { summary.tasks[$0] == nil })
            || jobs.contains(where: { !summary.jobs.contains($0.id) }),
            ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .seconds(1))
            summary = try await receiver.summary()
        }
        let deliveredAt = ContinuousClock.now
        let base = await service.baseURL
        var api: [String: APIJobView] = [:]
        for job in jobs { api[job.id] = try await APIJobView.read(job, base: base) }
        let ended = await service.stop()
        let store = try StoreView.read(SQLiteShell(database: database))
        var report = SoakReport()
        report.figure("seed", "\(plan.seed) (replay: FETCHQ_SOAK_SEED=\(plan.seed))")
        report.figure("tasks", plan.tasks)
        report.figure("elapsed, to every task final", Self.seconds(finalAt - started))
        report.figure("elapsed, to every webhook delivered", Self.seconds(deliveredAt - started))
        report.figure("elapsed, whole soak", Self.seconds(ContinuousClock.now - started))
        report.figure(
            "target answers",
            try await target.requestsByKind().sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                separator: ", "))
        report.figure("worker SIGKILLs", await service.workerKills)
        report.figure(
            "service SIGKILLs / SIGTERMs / restarts",
            "\(await service.serviceKills) / \(await service.serviceTerms) / \(await service.restarts)")
        report.figure("SIGTERMed services ended", (await service.termEndings + [ended]).joined(separator: ", "))
        report.figure("submissions retried", await submitter.refusedSubmissions)
        report.check(
            (await service.termEndings + [ended]).allSatisfy { $0 == "\(Termination.exited(0))" },
            "a SIGTERMed service did not exit 0")
        report.compare(jobs: jobs, api: api, receiver: summary, store: store)
        return report
    }

    private static func seconds(_ duration: Duration) -> String {
        String(format: "%.1f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}
