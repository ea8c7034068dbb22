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

    public init(secret: String) async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let python = root.appending(path: ".build/test-venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw ServiceProcessError("no \(python): run scripts/test-venv.sh (make test does)")
        }
        let process = try ChildProcess.spawn(
            .init(
                executable: python,
                arguments: [root.appending(path: "Tests/Receivers/webhook_receiver.py").path, secret],
                standardOutput: .pipe, standardError: .null))
        let log = LogBuffer()
        if let pipe = process.standardOutput { log.collect(from: pipe) }
        var port: Int?
        _ = await eventually(timeout: .seconds(20)) {
            port = log.contents.split(separator: "\n").first { $0.hasPrefix("listening ") }
                .flatMap { Int($0.dropFirst("listening ".count)) }
            return port != nil || !process.isRunning
        }
        guard let port else {
            process.signal(SIGKILL)
            throw ServiceProcessError("the webhook receiver did not start: \(log.contents)")
        }
        self.process = process
        self.port = port
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

extension JSONValue {
    public var doubleValue: Double? {
        switch self {
        case .number(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }
}
