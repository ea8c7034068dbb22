import Foundation
import JSON
import TestSupport
import Testing

/// Pausing a job and a host against a running service and a real target: what the target is
/// sent while paused (counted against another job's or host's tasks that do run), and that
/// everything finishes once resumed.
@Suite struct PauseTests {
    /// `fetchq pause JOB` holds the job's queued tasks while another job's tasks to the same
    /// target run to the end; `fetchq resume JOB` lets them all finish.
    @Test func aPausedJobSendsNothingNewUntilResumed() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        let options = ["--processes", "1", "--per-host-concurrency", "2"]
        try await withRunningService(arguments: options) { service, _ in
            let server = ["--server", service.baseURL]
            let paths = (0..<20).map { "/work/p\($0)/200" }
            let (paused, _) = try await submitJob(service, tasks: paths.map { target.baseURL + $0 }, extra: "")
            let pause = try await FetchqCommand.run(["pause", paused, "--json"] + server)
            #expect(pause.termination == .exited(0), "\(pause.errorText)")
            let answer = try JSONParser.parse(Array(pause.outputText.utf8))
            #expect(answer["paused"] == true)
            // Claimed before the pause: these run to the end; nothing else of the job may start.
            let started = (answer.at("counts.running")?.intValue ?? 0) + (answer.at("counts.succeeded")?.intValue ?? 0)
            #expect(started < 20)

            let (other, _) = try await submitJob(
                service, tasks: (0..<6).map { "\(target.baseURL)/ok/other-\($0)" }, extra: "")
            let othersDone = try await eventually(timeout: .seconds(180)) {
                let done = try await jobCount(service, other, "counts.succeeded") == 6
                let running = try await jobCount(service, paused, "counts.running")
                return done && running == 0
            }
            #expect(othersDone)
            let sent = { paths.map { target.requests($0) }.reduce(0, +) }
            #expect(sent() == started, "only the tasks running when the job was paused were sent")
            let queued = try await TestClient.get("\(service.baseURL)/v1/jobs/\(paused)/tasks?state=queued").json
            let waiting = queued?["tasks"]?.arrayValue ?? []
            #expect(waiting.count == 20 - started)
            #expect(waiting.allSatisfy { $0["waiting_for"] == "job_paused" })

            let resume = try await FetchqCommand.run(["resume", paused] + server)
            #expect(resume.termination == .exited(0), "\(resume.errorText)")
            #expect(resume.outputText.contains("resumed"))
            let finished = try await eventually(timeout: .seconds(180)) {
                try await jobCount(service, paused, "counts.succeeded") == 20
            }
            #expect(finished)
            #expect(sent() == 20)
        }
    }

    /// A host paused through the API is sent nothing while another host's tasks of the same job
    /// run; resuming it lets its tasks finish.
    @Test func aPausedHostIsSentNothingUntilResumed() async throws {
        let held = try TargetServer()
        defer { Task { await held.stop() } }
        let other = try TargetServer()
        defer { Task { await other.stop() } }
        try await withRunningService { service, _ in
            let host = "127.0.0.1%3A\(held.port)"
            let pause = try await TestClient.post(
                "\(service.baseURL)/v1/hosts/\(host)/pause", json: #"{"for_ms": 600000}"#)
            #expect(pause.status == 200)
            #expect(pause.json?["paused_until"]?.stringValue != nil)
            // The paused host's tasks first in the job: a claim that did not skip them would take them first.
            let tasks =
                (0..<5).map { "\(held.baseURL)/ok/held-\($0)" } + (0..<5).map { "\(other.baseURL)/ok/run-\($0)" }
            let (job, taskIDs) = try await submitJob(service, tasks: tasks, extra: "")
            let othersDone = try await eventually(timeout: .seconds(180)) {
                try await jobCount(service, job, "counts.succeeded") == 5
            }
            #expect(othersDone)
            #expect(other.totalRequests == 5)
            #expect(held.totalRequests == 0, "the paused host was sent nothing")
            let task = try await TestClient.get("\(service.baseURL)/v1/tasks/\(taskIDs[0])").json
            #expect(task?["waiting_for"] == "host_paused")
            #expect(task?["waiting_until"] == pause.json?["paused_until"])

            let resume = try await FetchqCommand.run([
                "resume", "--host", "127.0.0.1:\(held.port)", "--server", service.baseURL,
            ])
            #expect(resume.termination == .exited(0), "\(resume.errorText)")
            let finished = try await eventually(timeout: .seconds(180)) {
                try await jobCount(service, job, "counts.succeeded") == 10
            }
            #expect(finished)
            #expect(held.totalRequests == 5)
        }
    }

    @Test func theClientRefusesAPauseItCannotSend() async throws {
        let both = try await FetchqCommand.run(["pause", "01JD9Z6Y8T3Q8W1V2X3Y4Z5A6B", "--host", "example.com"])
        #expect(both.termination == .exited(64))
        let noEnd = try await FetchqCommand.run(["pause", "--host", "example.com"])
        #expect(noEnd.termination == .exited(64))
        let badDuration = try await FetchqCommand.run(["pause", "--host", "example.com", "--for", "soon"])
        #expect(badDuration.termination == .exited(64))
        #expect(badDuration.errorText.contains("--for"))
    }
}
