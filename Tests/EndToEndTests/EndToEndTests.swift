import API
import Foundation
import JSON
import Spawn
import Store
import StoreSQLite
import TestSupport
import Testing

@Suite(.serialized) struct EndToEndTests {
    /// What one kind of task in the mixed batch should end as.
    struct Expectation {
        let path: String
        let count: Int
        let extra: String
        let check: @Sendable (JSONValue) -> Bool
    }

    @Test func aMixedBatchEndsWithEveryTaskFinalEvenWhenAWorkerIsKilled() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        let base = target.baseURL
        let kinds: [Expectation] = [
            // Slow tasks first, so that many are in flight when a worker is killed.
            Expectation(
                path: "/slow/400", count: 60, extra: "",
                check: { (json: JSONValue) -> Bool in
                    json.at("state")?.stringValue == "succeeded" && json.at("outcome.status_code")?.intValue == 200
                }),
            Expectation(
                path: "/ok/", count: 300, extra: "",
                check: { (json: JSONValue) -> Bool in
                    let bytes: Int = json.at("outcome.body_bytes")?.intValue ?? 0
                    return json.at("state")?.stringValue == "succeeded" && bytes > 3
                }),
            Expectation(
                path: "/status/404", count: 60, extra: "",
                check: { (json: JSONValue) -> Bool in
                    json.at("state")?.stringValue == "failed" && json.at("outcome.status_code")?.intValue == 404
                }),
            Expectation(
                path: "/status/500", count: 40, extra: #","max_attempts":1"#,
                check: { (json: JSONValue) -> Bool in
                    let status: Int? = json.at("outcome.status_code")?.intValue
                    let error: String? = json.at("outcome.error")?.stringValue
                    return json.at("state")?.stringValue == "failed" && (status == 500 || error == "worker_lost")
                }),
            Expectation(
                path: "/redirect/3", count: 20, extra: "",
                check: { (json: JSONValue) -> Bool in
                    json.at("state")?.stringValue == "succeeded" && json.at("outcome.body_bytes")?.intValue == 7
                }),
            Expectation(
                path: "/redirect/9", count: 10, extra: "",
                check: { (json: JSONValue) -> Bool in
                    json.at("state")?.stringValue == "failed"
                        && json.at("outcome.error")?.stringValue == "too_many_redirects"
                }),
            Expectation(
                path: "/bytes/10000", count: 20, extra: "",
                check: { (json: JSONValue) -> Bool in
                    let truncated: Bool = json.at("outcome.body_truncated") == .bool(true)
                    return json.at("state")?.stringValue == "succeeded"
                        && json.at("outcome.body_bytes")?.intValue == 4_096
                        && truncated
                }),
        ]
        var tasks: [String] = []
        var expected: [Expectation] = []
        for kind in kinds {
            for index in 0..<kind.count {
                let url = kind.path == "/ok/" ? "\(base)/ok/\(index)" : base + kind.path
                tasks.append(#"{"url":"\#(url)"\#(kind.extra)}"#)
                expected.append(kind)
            }
        }
        #expect(tasks.count >= 500)

        try await withRunningService(arguments: [
            "--processes", "2", "--concurrency", "32", "--max-body-bytes", "4096", "--retry-base-ms", "10",
            "--per-host-concurrency", "64",
        ]) { service, _ in
            let submitted = try await TestClient.post(
                "\(service.baseURL)/v1/jobs", json: #"{"tasks":[\#(tasks.joined(separator: ","))],"timeout_ms":10000}"#)
            #expect(submitted.status == 201)
            let jobID = try #require(submitted.json?["id"]?.stringValue)
            let taskIDs: [String] = (submitted.json?["task_ids"]?.arrayValue ?? []).compactMap { $0.stringValue }
            #expect(taskIDs.count == tasks.count)

            // Kill one worker while slow tasks are in flight.
            let inFlight = try await eventually {
                try await jobCount(service, jobID, "counts.running") > 10
            }
            #expect(inFlight)
            let victim = try #require(service.workerPIDs.first)
            kill(victim, SIGKILL)

            let completed = try await eventually(timeout: .seconds(120)) {
                try await TestClient.get("\(service.baseURL)/v1/jobs/\(jobID)").json?["state"]?.stringValue
                    == "completed"
            }
            #expect(completed, "job did not complete; log:\n\(service.log)")
            let job = try await TestClient.get("\(service.baseURL)/v1/jobs/\(jobID)").json
            #expect(job?.at("counts.running")?.intValue == 0)
            #expect(job?.at("counts.queued")?.intValue == 0)
            #expect(service.log.contains("worker died; restarting it"))
            #expect(service.workerPIDs.count >= 3, "a replacement worker was started")

            var mismatches: [String] = []
            for (index, id) in taskIDs.enumerated() {
                let task = try await TestClient.get("\(service.baseURL)/v1/tasks/\(id)")
                guard let json = task.json, expected[index].check(json) else {
                    mismatches.append("\(expected[index].path): \(task.text)")
                    continue
                }
            }
            #expect(mismatches.isEmpty, "\(mismatches.count) tasks ended wrong, first: \(mismatches.first ?? "")")

            // Bodies are readable with their original content type.
            let body = try await TestClient.get("\(service.baseURL)/v1/tasks/\(taskIDs[60])/body")
            #expect(body.status == 200)
            #expect(body.text == "ok 0")
            #expect(body.headers["content-type"] == "text/plain")
        }
    }

    @Test func tasksLeftRunningByAKilledServiceFinishAfterRestart() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withTemporaryDirectory { directory in
            let database = directory.appending(path: "fetchq.db")
            let first = try await ServiceProcess.start(
                database: database, arguments: ["--processes", "1", "--per-host-concurrency", "64"])
            let tasks = (0..<40).map { #"{"url":"\#(target.baseURL)/slow/2000?n=\#($0)"}"# }
            let submitted = try await TestClient.post(
                "\(first.baseURL)/v1/jobs", json: #"{"tasks":[\#(tasks.joined(separator: ","))]}"#)
            let jobID = try #require(submitted.json?["id"]?.stringValue)
            let allRunning = try await eventually { try await jobCount(first, jobID, "counts.running") == 40 }
            #expect(allRunning)
            first.signal(SIGKILL)
            _ = await first.waitForExit()

            let second = try await ServiceProcess.start(
                database: database, arguments: ["--processes", "1", "--per-host-concurrency", "64"])
            defer { Task { await second.terminate() } }
            let rescued = await eventually { second.log.contains("returned tasks left running by an earlier run") }
            #expect(rescued)
            let completed = try await eventually(timeout: .seconds(60)) {
                try await jobCount(second, jobID, "counts.succeeded") == 40
            }
            #expect(completed, "log:\n\(second.log)")
        }
    }

    @Test func sigtermStopsCleanlyAndLeavesNothingRunning() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withTemporaryDirectory { directory in
            let database = directory.appending(path: "fetchq.db")
            let service = try await ServiceProcess.start(
                database: database,
                arguments: ["--processes", "1", "--shutdown-grace-ms", "1500", "--per-host-concurrency", "64"])
            let tasks = (0..<20).map { #"{"url":"\#(target.baseURL)/slow/5000?n=\#($0)"}"# }
            let submitted = try await TestClient.post(
                "\(service.baseURL)/v1/jobs", json: #"{"tasks":[\#(tasks.joined(separator: ","))]}"#)
            let jobID = try #require(submitted.json?["id"]?.stringValue)
            let allRunning = try await eventually { try await jobCount(service, jobID, "counts.running") == 20 }
            #expect(allRunning)
            service.signal(SIGTERM)
            // While it drains, reads still work and new jobs are refused with 503 and Retry-After.
            var refusal: TestResponse?
            let refused = await eventually(timeout: .seconds(5)) {
                refusal = try? await TestClient.post(
                    "\(service.baseURL)/v1/jobs", json: #"{"tasks":[{"url":"http://h/"}]}"#)
                return refusal?.status == 503
            }
            #expect(refused)
            #expect(refusal?.headers["retry-after"] != nil)
            let termination = await service.waitForExit(timeout: .seconds(10))
            #expect(termination == .exited(0), "log:\n\(service.log)")
            let store = try SQLiteStore(path: database.path, logger: .quiet)
            let id = try #require(JobID(jobID))
            let job = try #require(try store.job(id))
            #expect(job.counts.running == 0)
            #expect(job.counts.queued == 20)
        }
    }

    @Test func nothingIsLostWhenAWorkerAndThenTheWholeServiceAreKilled() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        let arguments = ["--processes", "2", "--concurrency", "64", "--per-host-concurrency", "256"]
        try await withTemporaryDirectory { directory in
            let database = directory.appending(path: "fetchq.db")
            let first = try await ServiceProcess.start(database: database, arguments: arguments)
            var jobIDs: [String] = []
            for batch in 0..<2 {
                let tasks = (0..<1_000).map { #"{"url":"\#(target.baseURL)/work/\#(batch * 1_000 + $0)/150"}"# }
                let submitted = try await TestClient.post(
                    "\(first.baseURL)/v1/jobs", json: #"{"tasks":[\#(tasks.joined(separator: ","))]}"#)
                jobIDs.append(try #require(submitted.json?["id"]?.stringValue))
            }
            func succeeded(_ service: ServiceProcess) async throws -> Int {
                var total = 0
                for id in jobIDs { total += try await jobCount(service, id, "counts.succeeded") }
                return total
            }
            // Fault 1: a worker dies mid-run, many requests in flight.
            #expect(try await eventually { try await succeeded(first) >= 300 })
            kill(try #require(first.workerPIDs.first), SIGKILL)
            // Fault 2: the whole service dies mid-run.
            #expect(try await eventually { try await succeeded(first) >= 900 })
            first.signal(SIGKILL)
            _ = await first.waitForExit()

            let second = try await ServiceProcess.start(database: database, arguments: arguments)
            defer { Task { await second.terminate() } }
            let finished = try await eventually(timeout: .seconds(120)) {
                var pending = 0
                for id in jobIDs {
                    pending += try await jobCount(second, id, "counts.queued") + jobCount(second, id, "counts.running")
                }
                return pending == 0
            }
            #expect(finished, "log:\n\(second.log)")
            // Every task is final, and each one the target answered with a 2xx is `succeeded`.
            let total = try await succeeded(second)
            #expect(total == 2_000)
            #expect(target.pathsAnsweredWithSuccess.count == total)
        }
    }

    @Test func workersKilledAgainAndAgainLeaveTheSupervisorRunningAndEveryTaskFinal() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        let arguments = ["--processes", "2", "--concurrency", "16", "--per-host-concurrency", "64"]
        try await withRunningService(arguments: arguments) { service, _ in
            let tasks = (0..<800).map { #"{"url":"\#(target.baseURL)/work/\#($0)/200"}"# }
            let submitted = try await TestClient.post(
                "\(service.baseURL)/v1/jobs",
                json: #"{"tasks":[\#(tasks.joined(separator: ","))],"max_attempts":10,"retry_base_ms":10}"#)
            #expect(submitted.status == 201)
            let jobID = try #require(submitted.json?["id"]?.stringValue)
            // Six times: once the job has made some progress, kill the oldest worker not killed yet
            // (so both slots are hit, and a pid is never signalled twice).
            var killed: Set<Int32> = []
            var progress = 0
            while killed.count < 6 {
                let before = progress
                let advanced = try await eventually(timeout: .seconds(60)) {
                    progress = try await jobCount(service, jobID, "counts.succeeded")
                    return progress >= before + 20 || progress == tasks.count
                }
                #expect(advanced, "log:\n\(service.log)")
                guard advanced, progress < tasks.count else { break }
                let replaced = await eventually { service.workerPIDs.contains { !killed.contains($0) } }
                guard replaced, let victim = service.workerPIDs.first(where: { !killed.contains($0) }) else { break }
                kill(victim, SIGKILL)
                killed.insert(victim)
            }
            let kills = killed.count
            #expect(kills >= 3, "the job ended before most kills: make it longer")
            let completed = try await eventually(timeout: .seconds(120)) {
                try await TestClient.get("\(service.baseURL)/v1/jobs/\(jobID)").json?["state"] == "completed"
            }
            #expect(completed, "log:\n\(service.log)")
            #expect(service.isRunning, "the supervisor outlived its workers")
            let job = try await TestClient.get("\(service.baseURL)/v1/jobs/\(jobID)").json
            #expect(job?.at("counts.succeeded")?.intValue == tasks.count, "10 attempts outlast 6 kills")
            #expect(job?.at("counts.running")?.intValue == 0)
            #expect(
                service.log.components(separatedBy: "worker died; restarting it").count - 1 == kills,
                "each kill was seen and the worker restarted")
        }
    }

    @Test func repeatedResponseHeadersAreAllKept() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService { service, _ in
            let submitted = try await TestClient.post(
                "\(service.baseURL)/v1/jobs", json: #"{"tasks":[{"url":"\#(target.baseURL)/cookies"}]}"#)
            let taskID = try #require(submitted.json?["task_ids"]?.arrayValue?.first?.stringValue)
            let done = try await eventually {
                try await TestClient.get("\(service.baseURL)/v1/tasks/\(taskID)").json?["state"] == "succeeded"
            }
            #expect(done)
            let headers = try await TestClient.get("\(service.baseURL)/v1/tasks/\(taskID)").json?.at("outcome.headers")
            #expect(
                headers?["set-cookie"]
                    == .array(["a=1; Path=/", "b=2; Expires=Wed, 09 Jun 2027 10:18:14 GMT"]))
            #expect(headers?["content-type"] == "text/plain", "a header sent once stays a string")
        }
    }

    @Test func migrateAppliesOnceThenReportsUpToDate() async throws {
        try await withTemporaryDirectory { directory in
            let database = directory.appending(path: "fetchq.db").path
            func migrate() throws -> String {
                try ChildProcess.run(
                    .init(
                        executable: try FetchqBinary.path, arguments: ["migrate", "--db", database],
                        standardOutput: .pipe, standardError: .null)
                ).outputText
            }
            let first = try migrate()
            let second = try migrate()
            #expect(first.contains("applied 1"))
            #expect(second.contains("up to date"))
        }
    }
}

/// A number in the job's JSON, such as `counts.running`; -1 when absent.
func jobCount(_ service: ServiceProcess, _ jobID: String, _ path: String) async throws -> Int {
    try await TestClient.get("\(service.baseURL)/v1/jobs/\(jobID)").json?.at(path)?.intValue ?? -1
}

@Suite struct GuardEndToEndTests {
    @Test func aNameThatResolvesToLoopbackIsBlockedAtConnectTime() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService(guarded: true) { service, _ in
            // `localhost` is a name, so it passes the submit-time check; the connection is refused.
            let submitted = try await TestClient.post(
                "\(service.baseURL)/v1/jobs", json: #"{"tasks":[{"url":"http://localhost:\#(target.port)/ok/x"}]}"#)
            #expect(submitted.status == 201)
            let taskID = try #require(submitted.json?["task_ids"]?.arrayValue?.first?.stringValue)
            let final = try await eventually {
                try await TestClient.get("\(service.baseURL)/v1/tasks/\(taskID)").json?["state"] == "failed"
            }
            #expect(final)
            let task = try await TestClient.get("\(service.baseURL)/v1/tasks/\(taskID)").json
            #expect(task?.at("outcome.error") == "blocked_destination")
            #expect(task?["attempts"] == 1, "not retried")
            #expect(target.totalRequests == 0, "no request reached the target")
        }
    }

    @Test func serveRefusesAPublicAddressWithoutAToken() async throws {
        let run = try ChildProcess.run(
            .init(
                executable: try FetchqBinary.path,
                arguments: ["serve", "--host", "0.0.0.0", "--port", "0", "--db", "/nonexistent/never.db"],
                standardError: .pipe))
        #expect(run.termination != .exited(0))
        #expect(run.errorText.contains("--api-token"))
    }
}
