import Foundation

/// What one soak run does: its size, its seed, and the chaos to inflict. The same plan type is the
/// short soak of `make test` and the 50,000-task `make soak` (`FETCHQ_SOAK_TASKS`).
struct SoakPlan: Sendable, CustomStringConvertible {
    /// A whole-service event, due once this share of the tasks is final.
    struct ServiceEvent: Sendable {
        let atShare: Double
        let signal: Int32
    }

    let tasks: Int
    let tasksPerJob: Int
    let seed: UInt64
    /// Tasks submitted but not yet final, at most, before the next job is submitted.
    let backlog: Int
    let serviceEvents: [ServiceEvent]
    /// A random worker is SIGKILLed every this many milliseconds, drawn from the range.
    let workerKillEveryMillis: ClosedRange<Int>
    let targetPorts = 8
    let taskTimeoutMillis = 1_500
    /// How long a hanging target holds the connection: past the task's timeout.
    var hangMillis: Int { taskTimeoutMillis * 2 }
    /// The share of webhook calls the receiver fails.
    let receiverFailurePercent = 33
    /// How long the whole run may take before it counts as stuck.
    let deadline: Duration

    var jobs: Int { (tasks + tasksPerJob - 1) / tasksPerJob }

    /// The full soak when `FETCHQ_SOAK_TASKS` is set; otherwise the short one, smaller again under a
    /// sanitizer (`FETCHQ_SANITIZE`, set by `scripts/sanitize.sh`). `FETCHQ_SOAK_SEED` replays a run.
    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> SoakPlan {
        let seed = environment["FETCHQ_SOAK_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...999_999_999)
        if let tasks = environment["FETCHQ_SOAK_TASKS"].flatMap({ Int($0) }), tasks > 0 {
            return SoakPlan(
                tasks: tasks, tasksPerJob: 1_000, seed: seed, backlog: 5_000,
                serviceEvents: [
                    .init(atShare: 0.2, signal: SIGKILL), .init(atShare: 0.45, signal: SIGTERM),
                    .init(atShare: 0.7, signal: SIGKILL),
                ],
                workerKillEveryMillis: 2_000...5_000, deadline: .seconds(3_600))
        }
        let sanitized = environment["FETCHQ_SANITIZE"] != nil
        return SoakPlan(
            tasks: sanitized ? 600 : 2_000, tasksPerJob: sanitized ? 100 : 200, seed: seed,
            backlog: sanitized ? 300 : 800,
            serviceEvents: [.init(atShare: 0.3, signal: SIGKILL), .init(atShare: 0.6, signal: SIGTERM)],
            workerKillEveryMillis: sanitized ? 3_000...5_000 : 1_500...3_000, deadline: .seconds(600))
    }

    var description: String {
        let events = serviceEvents.map { "\($0.signal == SIGKILL ? "SIGKILL" : "SIGTERM")@\(Int($0.atShare * 100))%" }
        return "soak plan: \(tasks) tasks in \(jobs) jobs, seed \(seed) (replay: FETCHQ_SOAK_SEED=\(seed)),"
            + " service \(events.joined(separator: ", ")), a worker SIGKILL every"
            + " \(workerKillEveryMillis.lowerBound)–\(workerKillEveryMillis.upperBound) ms"
    }
}
