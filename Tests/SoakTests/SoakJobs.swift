import Foundation
import JSON
import TestSupport

/// One job the soak submitted: its id, its tasks' ids and the attempts it allows.
struct SoakJob: Sendable {
    let id: String
    let taskIDs: [String]
    let maxAttempts: Int
}

/// The soak's jobs, submitted one by one while the chaos goes on, each with an `Idempotency-Key`
/// and retried until the service (which may be down, restarting or shutting down) stores it.
actor SoakJobs {
    private(set) var submitted: [SoakJob] = []
    /// Tasks final, as the chaos loop last saw them.
    private var finished = 0
    /// Submission attempts that did not answer 201 (service down, shutting down, key in progress).
    private(set) var refusedSubmissions = 0

    var submittedTasks: Int { submitted.reduce(0) { $0 + $1.taskIDs.count } }

    func saw(finished: Int) { self.finished = finished }

    /// Submits every job of `plan`, keeping at most `plan.backlog` tasks unfinished.
    func submitAll(
        _ plan: SoakPlan, service: SoakService, targets: [String], callbackURL: String,
        deadline: ContinuousClock.Instant
    ) async throws {
        var random = SeededRandom(seed: plan.seed)
        for index in 0..<plan.jobs {
            let count = min(plan.tasksPerJob, plan.tasks - index * plan.tasksPerJob)
            let tasks = (0..<count).map { #"{"url":"\#(targets[$0 % targets.count])/t/\#(index)/\#($0)"}"# }
            let maxAttempts = Int.random(in: 2...5, using: &random)
            let body =
                #"{"tasks":[\#(tasks.joined(separator: ","))],"timeout_ms":\#(plan.taskTimeoutMillis),"#
                + #""max_attempts":\#(maxAttempts),"retry_base_ms":50,"retry_max_ms":300,"#
                + #""callback_url":"\#(callbackURL)"}"#
            while submittedTasks - finished + count > plan.backlog, submittedTasks > 0 {
                try await pause(until: deadline)
            }
            let answer = try await submit(body, key: "soak-\(plan.seed)-\(index)", service: service, deadline: deadline)
            let ids = (answer["task_ids"]?.arrayValue ?? []).compactMap(\.stringValue)
            guard let id = answer["id"]?.stringValue, ids.count == count else {
                throw ServiceProcessError("job \(index): an answer without its ids: \(answer)")
            }
            submitted.append(SoakJob(id: id, taskIDs: ids, maxAttempts: maxAttempts))
        }
    }

    /// POSTs one job until it is answered 201 (a replay of the same key answers 201 too).
    private func submit(_ body: String, key: String, service: SoakService, deadline: ContinuousClock.Instant)
        async throws -> JSONValue
    {
        while true {
            let url = await service.baseURL + "/v1/jobs"
            let answer = try? await TestClient.request("POST", url, json: body, headers: [("Idempotency-Key", key)])
            if let answer, answer.status == 201, let json = answer.json { return json }
            if let answer, (400..<500).contains(answer.status), answer.status != 409 {
                throw ServiceProcessError("a submission was refused: \(answer.status) \(answer.text)")
            }
            refusedSubmissions += 1
            try await pause(until: deadline)
        }
    }

    private func pause(until deadline: ContinuousClock.Instant) async throws {
        guard ContinuousClock.now < deadline else { throw ServiceProcessError("the soak ran past its deadline") }
        try await Task.sleep(for: .milliseconds(50))
    }
}
