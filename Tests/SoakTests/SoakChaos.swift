import Foundation
import TestSupport

/// The chaos loop: while tasks remain, SIGKILLs a random worker every few seconds and, as the
/// tasks become final, SIGKILLs or SIGTERMs the whole service at the plan's shares (restarting it).
struct SoakChaos {
    let plan: SoakPlan
    let service: SoakService
    let jobs: SoakJobs

    /// Runs until every planned task is final; throws past `deadline`.
    func run(until deadline: ContinuousClock.Instant) async throws {
        var random = SeededRandom(seed: plan.seed ^ 0x5EED_C4A0)
        var events = plan.serviceEvents
        var nextWorkerKill = ContinuousClock.now + nextInterval(&random)
        var finished = 0
        while finished < plan.tasks {
            guard ContinuousClock.now < deadline else {
                throw ServiceProcessError("the soak ran past its deadline with \(finished) of \(plan.tasks) final")
            }
            if let counted = try? await finishedTasks() {
                finished = counted
                await jobs.saw(finished: finished)
            }
            if let event = events.first, Double(finished) >= event.atShare * Double(plan.tasks) {
                events.removeFirst()
                print("soak: \(event.signal == SIGKILL ? "SIGKILL" : "SIGTERM") to the service at \(finished) final")
                try await service.interrupt(with: event.signal)
            } else if ContinuousClock.now >= nextWorkerKill {
                // No live worker (the supervisor is restarting it): try again at the next tick.
                if await service.killWorker(draw: random.next()) {
                    nextWorkerKill = ContinuousClock.now + nextInterval(&random)
                }
            }
            // The loop's pace, not a wait for an event: progress is polled at this tick.
            try await Task.sleep(for: .milliseconds(100))
        }
        guard events.isEmpty else {
            throw ServiceProcessError("the tasks ended before every service event: make the soak longer")
        }
    }

    private func nextInterval(_ random: inout SeededRandom) -> Duration {
        .milliseconds(Int.random(in: plan.workerKillEveryMillis, using: &random))
    }

    /// Tasks final across every job, from `GET /v1/jobs` (all pages).
    private func finishedTasks() async throws -> Int {
        let base = await service.baseURL
        var cursor: String?
        var finished = 0
        repeat {
            let query = cursor.map { "&cursor=\($0)" } ?? ""
            let page = try await TestClient.get("\(base)/v1/jobs?limit=1000\(query)")
            guard page.status == 200, let json = page.json else {
                throw ServiceProcessError("GET /v1/jobs: \(page.status)")
            }
            for job in json["jobs"]?.arrayValue ?? [] {
                for state in ["succeeded", "failed", "canceled"] {
                    finished += job.at("counts.\(state)")?.intValue ?? 0
                }
            }
            cursor = json["next_cursor"]?.stringValue
        } while cursor != nil
        return finished
    }
}
