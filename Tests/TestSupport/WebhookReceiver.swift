import API
import Foundation
import JSON
import Spawn

/// The Python webhook receiver (`Tests/Receivers/webhook_receiver.py`), which verifies signatures
/// with the independent `standardwebhooks` package. Started per test, stopped by `stop()`.
public final class WebhookReceiver: Sendable {
    /// One call the receiver got.
    public struct Call: Sendable {
        public let id: String
        public let type: String?
        public let valid: Bool
        public let status: Int
        public let at: Double
        public let taskID: String?
        public let jobID: String?
        /// Why verification failed, when it did.
        public let problem: String?
        /// The event's `data`.
        public let data: JSONValue?
    }

    private let process: ChildProcess
    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts a receiver that checks signatures against `secret`. `seed` decides which calls to
    /// `/random/PERCENT` fail; with `summaryOnly`, `calls()` stays empty and only `summary()` counts.
    public init(secret: String, seed: UInt64 = 0, summaryOnly: Bool = false) async throws {
        let helper = try await PythonHelper.start(
            "webhook_receiver.py", arguments: [secret, String(seed)] + (summaryOnly ? ["--summary-only"] : []))
        process = helper.process
        port = helper.ports[0]
    }

    public func stop() { process.signal(SIGKILL) }

    /// Every call received so far, in order.
    public func calls() async throws -> [Call] {
        let response = try await TestClient.get("\(baseURL)/events")
        return (response.json?.arrayValue ?? []).map { item in
            Call(
                id: item["id"]?.stringValue ?? "", type: item["type"]?.stringValue, valid: item["valid"] == .bool(true),
                status: item["status"]?.intValue ?? 0, at: item["at"].flatMap(\.doubleValue) ?? 0,
                taskID: item["task_id"]?.stringValue, jobID: item["job_id"]?.stringValue,
                problem: item["problem"]?.stringValue, data: item["data"])
        }
    }
}

extension WebhookReceiver {
    /// The most calls the receiver was answering at once, so far.
    public func maxInFlight() async throws -> Int {
        try await TestClient.get("\(baseURL)/stats").json?["max_in_flight"]?.intValue ?? 0
    }
}

extension WebhookReceiver {
    /// The events it answered with a 2xx, as `GET /summary` reports them.
    public struct Summary: Sendable {
        /// Calls received, and those answered with a failure or not verified.
        public let calls: Int
        public let failedAnswers: Int
        public let invalid: Int
        /// Each task whose `task.finished` was answered 2xx: the state and attempts its payload gave.
        public let tasks: [String: (state: String, attempts: Int)]
        /// The jobs whose `job.finished` was answered 2xx.
        public let jobs: Set<String>
    }

    public func summary() async throws -> Summary {
        let json = try await TestClient.get("\(baseURL)/summary").json
        var tasks: [String: (state: String, attempts: Int)] = [:]
        if case .object(let members)? = json?["tasks"] {
            for (id, value) in members {
                tasks[id] = (value.arrayValue?.first?.stringValue ?? "", value.arrayValue?.last?.intValue ?? 0)
            }
        }
        return Summary(
            calls: json?["calls"]?.intValue ?? 0, failedAnswers: json?["failed_answers"]?.intValue ?? 0,
            invalid: json?["invalid"]?.intValue ?? 0, tasks: tasks,
            jobs: Set((json?["jobs"]?.arrayValue ?? []).compactMap(\.stringValue)))
    }
}

extension JSONValue {
    public var doubleValue: Double? {
        switch self {
        case .number(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }
}
