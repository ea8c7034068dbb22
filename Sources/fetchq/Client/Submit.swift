import ArgumentParser
import Crypto
import Foundation
import JSON
import NIOHTTP1

/// `fetchq submit`: turns a list of URLs (or tasks, or a job document) into one job, of any size.
struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit a job: one URL or JSON task per line, or a whole job document.",
        discussion: """
            Prints only the job id on stdout, so `JOB=$(fetchq submit urls.txt)` works; everything else \
            goes to stderr. Past one request's limit the job is opened, filled in batches and sealed. \
            Idempotency keys are derived from the input: re-running the same command (for 24 h) after an \
            interruption adds nothing twice and prints the same job id. Bad lines are reported with their \
            numbers, and then nothing is submitted.

            Example:
              fetchq submit urls.txt --wait --max-attempts 3 --header 'Accept: text/html'
              fetchq results "$(fetchq submit urls.txt)" --format csv

            \(ClientExit.help)
            """)

    @OptionGroup var client: ClientOptions

    @Argument(help: "The input file, or - (the default) for stdin.")
    var file: String = "-"

    @Option(help: "HTTP method of tasks that set none.") var method: String?
    @Option(name: .customLong("header"), help: "A request header 'Name: value' for every task (repeatable).")
    var headers: [String] = []
    @Option(name: .customLong("timeout-ms"), help: "Time limit of each attempt, in ms.") var timeoutMillis: Int?
    @Option(name: .customLong("max-attempts"), help: "Attempts per task.") var maxAttempts: Int?
    @Option(help: "Priority of the tasks (higher first).") var priority: Int?
    @Option(name: .customLong("delay-ms"), help: "Delay before the first attempts, in ms.") var delayMillis: Int?
    @Option(name: .customLong("callback-url"), help: "Webhook URL for task.finished and job.finished.")
    var callbackURL: String?
    @Flag(help: "Follow the job until it completes, then summarize it (see `fetchq wait`).") var wait = false
    @Option(name: .customLong("batch-size"), help: .hidden) var batchSize = 10_000

    /// Largest request body the client sends (the service's default limit is 16 MiB).
    static let maxBatchBytes = 8 << 20

    func run() async throws {
        try await Console.run {
            let requests = try plan(try SubmitInput.parse(readInput()))
            try await APIClient.with(client) { api in
                let id = try await send(requests, api)
                FileHandle.standardOutput.write(Data((id + "\n").utf8))
                if wait { throw ExitCode(try await JobFollower(api: api, jobID: id).followAndSummarize()) }
            }
        }
    }

    private func readInput() throws -> [UInt8] {
        if file == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ClientFailure("cannot read \(file)")
        }
        return Array(data)
    }

    /// The requests to send, in order: one `POST /v1/jobs`, or an open job, its batches and its seal.
    struct Plan {
        var single: [UInt8]?
        var open: [UInt8] = []
        var batches: [[UInt8]] = []
        /// Derived from every request body: the same input and flags give the same keys.
        var key: String
    }

    func plan(_ input: SubmitInput) throws -> Plan {
        let tasks = try input.tasks.map(withFlags)
        var jobFields = input.jobFields
        func set(_ name: String, _ value: JSONValue?) {
            guard let value else { return }
            jobFields.removeAll { $0.0 == name }
            jobFields.append((name, value))
        }
        set("timeout_ms", timeoutMillis.map { .integer($0) })
        set("max_attempts", maxAttempts.map { .integer($0) })
        set("priority", priority.map { .integer($0) })
        set("delay_ms", delayMillis.map { .integer($0) })
        set("callback_url", callbackURL.map { .string($0) })
        if tasks.count <= batchSize {
            let whole = JSONValue.object(jobFields + [("tasks", .array(tasks))]).serialized
            if whole.count <= Self.maxBatchBytes {
                return Plan(single: whole, key: "fetchq-submit-" + Self.digest([whole]))
            }
        }
        let batchFields = jobFields.filter { !$0.0.hasPrefix("callback_") && $0.0 != "open" }
        var batches: [[UInt8]] = []
        var chunk: [JSONValue] = []
        var chunkBytes = 0
        for task in tasks {
            let size = task.serialized.count + 1
            if !chunk.isEmpty && (chunk.count == batchSize || chunkBytes + size > Self.maxBatchBytes - 4096) {
                batches.append(JSONValue.object(batchFields + [("tasks", .array(chunk))]).serialized)
                (chunk, chunkBytes) = ([], 0)
            }
            chunk.append(task)
            chunkBytes += size
        }
        if !chunk.isEmpty { batches.append(JSONValue.object(batchFields + [("tasks", .array(chunk))]).serialized) }
        let open = JSONValue.object(jobFields.filter { $0.0 != "open" } + [("open", .bool(true))]).serialized
        return Plan(open: open, batches: batches, key: "fetchq-submit-" + Self.digest([open] + batches))
    }

    /// A task with the `--method` and `--header` flags applied where it sets nothing itself.
    private func withFlags(_ task: JSONValue) throws -> JSONValue {
        guard case .object(var members) = task else { throw ClientFailure("a task must be a JSON object") }
        if let method, task["method"] == nil { members.append(("method", .string(method.uppercased()))) }
        if !headers.isEmpty {
            guard case .object(var own)? = task["headers"] ?? .object([]) else {
                throw ClientFailure("a task's `headers` must be an object")
            }
            for header in headers {
                let parts = header.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { throw ClientFailure("--header must be 'Name: value', not \(header)") }
                let name = parts[0].trimmingCharacters(in: .whitespaces)
                if !own.contains(where: { $0.0.lowercased() == name.lowercased() }) {
                    own.append((name, .string(parts[1].trimmingCharacters(in: .whitespaces))))
                }
            }
            members.removeAll { $0.0 == "headers" }
            members.append(("headers", .object(own)))
        }
        return .object(members)
    }

    static func digest(_ bodies: [[UInt8]]) -> String {
        var hash = SHA256()
        for body in bodies {
            hash.update(data: body)
            hash.update(data: [0x0A])
        }
        return hash.finalize().prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// Sends the plan; answers the job id.
    private func send(_ plan: Plan, _ api: APIClient) async throws -> String {
        if let single = plan.single {
            let answer = try await api.sending(.POST, "/v1/jobs", body: single, key: plan.key)
            guard let id = answer.json["id"]?.stringValue else { throw ClientFailure("the service sent no job id") }
            return id
        }
        let created = try await api.sending(.POST, "/v1/jobs", body: plan.open, key: plan.key + "-open")
        guard let id = created.json["id"]?.stringValue else { throw ClientFailure("the service sent no job id") }
        var sent = 0
        for (index, batch) in plan.batches.enumerated() {
            let answer = try await api.sending(.POST, "/v1/jobs/\(id)/tasks", body: batch, key: plan.key + "-\(index)")
            sent += answer.json["task_count"]?.intValue ?? 0
            Console.error("fetchq: job \(id): batch \(index + 1)/\(plan.batches.count) stored (\(sent) tasks)")
        }
        _ = try await api.sending(.POST, "/v1/jobs/\(id)/seal", body: nil, key: nil)
        return id
    }
}

extension APIClient {
    /// A write, retried (with its idempotency key, so never applied twice) while the service is
    /// unreachable, stopping (503) or busy with the same key (409 `idempotency_key_in_use`).
    func sending(_ method: HTTPMethod, _ path: String, body: [UInt8]?, key: String?) async throws -> Answer {
        var delay = 0.2
        for attempt in 1... {
            do {
                let answer = try await call(
                    method, path, body: body, headers: key.map { [("Idempotency-Key", $0)] } ?? [])
                let busy = answer.status == 409 && answer.json["code"]?.stringValue == "idempotency_key_in_use"
                if (answer.status == 503 || busy) && attempt < 8 {
                    try await Task.sleep(for: .seconds(delay))
                    delay = min(delay * 2, 3)
                    continue
                }
                guard (200..<300).contains(answer.status) else { throw Self.failure(answer, method, path) }
                return answer
            } catch let failure as ClientFailure where attempt < 8 && failure.retryable {
                try await Task.sleep(for: .seconds(delay))
                delay = min(delay * 2, 3)
            }
        }
        throw ClientFailure("unreachable")
    }
}
