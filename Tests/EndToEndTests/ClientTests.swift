import Foundation
import JSON
import Spawn
import TestSupport
import Testing

/// The `fetchq` client's commands, run as subprocesses against a real service and target.
@Suite struct ClientTests {
    /// Writes `lines` to a file in `directory`; answers its path.
    static func write(_ lines: [String], to directory: URL, name: String = "urls.txt") throws -> String {
        let file = directory.appending(path: name)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)
        return file.path
    }

    @Test func submitWaitRunsEveryURLAsOneJobThenResultsMatchTheTasks() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService { service, _ in
            try await withTemporaryDirectory { directory in
                let count = 5_000
                let file = try Self.write((0..<count).map { "\(target.baseURL)/ok/\($0)" }, to: directory)
                // Batches of 2,000: the job is opened, filled in three appends and sealed.
                let submit = try await FetchqCommand.run([
                    "submit", file, "--wait", "--batch-size", "2000", "--server", service.baseURL,
                ])
                #expect(submit.termination == .exited(0), "\(submit.errorText)")
                let lines = submit.outputText.split(separator: "\n")
                #expect(lines.count == 1)
                let id = String(lines.first ?? "")
                #expect(submit.errorText.contains("\(count) succeeded, 0 failed"))
                let job = try await TestClient.get("\(service.baseURL)/v1/jobs/\(id)").json
                #expect(job?["task_count"]?.intValue == count)
                #expect(job?.at("counts.succeeded")?.intValue == count)

                let results = try await FetchqCommand.run(["results", id, "--server", service.baseURL])
                #expect(results.termination == .exited(0))
                let rows = results.outputText.split(separator: "\n").compactMap {
                    try? JSONParser.parse(Array($0.utf8))
                }
                #expect(rows.count == count)
                #expect(rows.map { $0["url"]?.stringValue ?? "" } == (0..<count).map { "\(target.baseURL)/ok/\($0)" })
                for row in [rows.first, rows[count / 2], rows.last].compactMap({ $0 }) {
                    let task = try await TestClient.get("\(service.baseURL)/v1/tasks/\(row["id"]?.stringValue ?? "")")
                        .json
                    #expect(task?["state"] == row["state"])
                    #expect(task?.at("outcome.status_code") == row["status_code"])
                    #expect(task?.at("outcome.body_bytes") == row["body_bytes"])
                    #expect(task?["attempts"] == row["attempts"])
                }

                let csv = try await FetchqCommand.run(["results", id, "--format", "csv", "--server", service.baseURL])
                let csvFile = directory.appending(path: "results.csv")
                try Data(csv.standardOutput).write(to: csvFile)
                let python = try await Self.python(
                    "import csv,sys; r=list(csv.DictReader(open(sys.argv[1], newline=''))); "
                        + "print(len(r), r[0]['state'], r[0]['status_code'])", csvFile.path)
                #expect(python == "\(count) succeeded 200")
            }
        }
    }

    @Test func aJobWith404sExitsOneNamesThemAndRetryFailedRerunsThem() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService { service, _ in
            try await withTemporaryDirectory { directory in
                let urls = (0..<20).map { "\(target.baseURL)/\($0 % 4 == 0 ? "status/404" : "ok/\($0)")" }
                let file = try Self.write(urls, to: directory)
                let submit = try await FetchqCommand.run([
                    "submit", file, "--wait", "--max-attempts", "1", "--server", service.baseURL,
                ])
                #expect(submit.termination == .exited(1), "\(submit.errorText)")
                #expect(submit.errorText.contains("15 succeeded, 5 failed"))
                #expect(submit.errorText.contains("HTTP 404 × 5"))
                let id = submit.outputText.trimmingCharacters(in: .whitespacesAndNewlines)
                let server = ["--server", service.baseURL]

                let status = try await FetchqCommand.run(["status", id, "--json"] + server)
                #expect(try JSONParser.parse(status.standardOutput)["state"] == "completed")

                let bodies = directory.appending(path: "bodies")
                let exported = try await FetchqCommand.run(["results", id, "--bodies", bodies.path] + server)
                let rows = exported.outputText.split(separator: "\n").compactMap {
                    try? JSONParser.parse(Array($0.utf8))
                }
                #expect(rows.count == 20)
                let second = try #require(rows.dropFirst().first?["body_file"]?.stringValue)
                #expect(try String(contentsOfFile: second, encoding: .utf8) == "ok 1")

                let retry = try await FetchqCommand.run(["retry", id, "--failed"] + server)
                #expect(retry.outputText.contains("re-queued 5 tasks"), "\(retry.errorText)")
                let again = await eventually { target.requests("/status/404") == 10 }
                #expect(again)
            }
        }
    }

    @Test func aServerThatIsNotThereIsToldAtOnceInOneLine() async throws {
        let closed = try ClosedPort()
        let server = "http://127.0.0.1:\(closed.port)"
        try await withTemporaryDirectory { directory in
            let file = try Self.write(["http://127.0.0.1:1/a"], to: directory)
            let started = ContinuousClock.now
            let submit = try await FetchqCommand.run(["submit", "--server", server, file, "--wait"])
            let took = ContinuousClock.now - started
            #expect(submit.termination == .exited(2))
            #expect(
                submit.errorText.trimmingCharacters(in: .whitespacesAndNewlines)
                    == "fetchq: nothing is listening at \(server) — is `fetchq serve` running? set --server or"
                    + " FETCHQ_SERVER", "\(submit.errorText)")
            // Riding out a restart took 92 s here (eight tries, each retrying its connection for
            // 10 s); a refused first request ends the command at once. The bound is generous for a
            // machine loaded by a sanitizer and hundreds of tests at once.
            #expect(took < .seconds(60), "took \(took)")
            let status = try await FetchqCommand.run(["status", "--server", server, "01JD9Z6Y8T3Q8W1V2X3Y4Z5A6B"])
            #expect(status.termination == .exited(2))
            #expect(status.errorText.contains("nothing is listening at \(server)"))
        }
        withExtendedLifetime(closed) {}
    }

    @Test func badLinesAreReportedByNumberAndNothingIsSubmitted() async throws {
        try await withRunningService { service, _ in
            try await withTemporaryDirectory { directory in
                let file = try Self.write(
                    ["http://127.0.0.1:1/a", "not a url", "http://127.0.0.1:1/b", #"{"method": "GET"}"#], to: directory)
                let submit = try await FetchqCommand.run(["submit", file, "--server", service.baseURL])
                #expect(submit.termination == .exited(2))
                #expect(submit.outputText.isEmpty)
                #expect(submit.errorText.contains("line 2:"))
                #expect(submit.errorText.contains("line 4:"))
                #expect(!service.log.contains("job submitted"))
            }
        }
    }

    @Test func anInterruptedSubmitRunAgainAddsNothingTwice() async throws {
        try await withRunningService { service, _ in
            try await withTemporaryDirectory { directory in
                // Far-off tasks: the test is about what is stored, not about running them.
                let count = 3_000
                let file = try Self.write((0..<count).map { "http://127.0.0.1:9/never/\($0)" }, to: directory)
                let arguments = [
                    "submit", file, "--batch-size", "10", "--delay-ms", "3600000", "--server", service.baseURL,
                ]
                let first = try ChildProcess.spawn(
                    .init(
                        executable: try FetchqBinary.path, arguments: arguments, standardOutput: .pipe,
                        standardError: .pipe))
                // Killed by the thread that reads its progress, the moment batch 5 is reported.
                let errors = LogBuffer()
                if let pipe = first.standardError {
                    errors.collect(from: pipe, when: "batch 5/300 stored") { first.signal(SIGKILL) }
                }
                let ended = await first.exited()
                #expect(ended == .signaled(SIGKILL), "\(errors.contents)")
                #expect(!errors.contents.contains("batch 300/300"))
                let again = try await FetchqCommand.run(arguments)
                #expect(again.termination == .exited(0), "\(again.errorText)")
                let id = again.outputText.trimmingCharacters(in: .whitespacesAndNewlines)
                let job = try await TestClient.get("\(service.baseURL)/v1/jobs/\(id)").json
                #expect(job?["task_count"]?.intValue == count)
                #expect(job?.at("counts.queued")?.intValue == count)
                let listed = try await TestClient.get("\(service.baseURL)/v1/jobs/\(id)/results")
                let urls = listed.text.split(separator: "\n").compactMap {
                    try? JSONParser.parse(Array($0.utf8))["url"]?.stringValue
                }
                #expect(urls == (0..<count).map { "http://127.0.0.1:9/never/\($0)" })
            }
        }
    }

    @Test func waitOnATerminalDrawsAProgressBarWithMovingCounts() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService { service, _ in
            let tasks = (0..<48).map { #"{"url": "\#(target.baseURL)/work/\#($0)/150"}"# }
            let created = try await TestClient.post(
                "\(service.baseURL)/v1/jobs", json: #"{"tasks": [\#(tasks.joined(separator: ","))]}"#)
            let id = try #require(created.json?["id"]?.stringValue)
            // `script` gives the command a pseudo-terminal and copies what it writes.
            let command = "\(try FetchqBinary.path) wait \(id) --server \(service.baseURL)"
            // Not tied to this process by FETCHQ_PARENT_PID: its parent is `script`, not the test.
            let run = try await Self.run("script", ["-qfec", command, "/dev/null"], tiedToParent: false)
            #expect(run.termination == .exited(0), "\(run.outputText)")
            let frames = run.outputText.components(separatedBy: "\r").filter { $0.contains("[") && $0.contains("/48") }
            let finished = Set(
                frames.compactMap { frame in
                    frame.range(of: "] ").flatMap { Int(frame[$0.upperBound...].prefix { $0.isNumber }) }
                })
            #expect(finished.count >= 2, "\(frames)")
            #expect(finished.contains(48))
            #expect(run.outputText.contains("tasks/s"))
        }
    }

    static func run(_ executable: String, _ arguments: [String], tiedToParent: Bool = true) async throws
        -> ChildProcess.Completed
    {
        var environment = ProcessInfo.processInfo.environment
        if !tiedToParent { environment["FETCHQ_PARENT_PID"] = nil }
        let configuration = ChildProcess.Configuration(
            executable: executable, arguments: arguments, environment: environment, standardOutput: .pipe,
            standardError: .pipe, dieWithParent: tiedToParent)
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try ChildProcess.run(configuration) }) }
        }
    }

    static func python(_ program: String, _ argument: String) async throws -> String {
        try await run("python3", ["-c", program, argument]).outputText.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
