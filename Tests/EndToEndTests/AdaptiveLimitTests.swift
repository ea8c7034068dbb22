import Foundation
import JSON
import TestSupport
import Testing

/// A host that copes with 3 requests at a time and answers 503 beyond, fetched with a ceiling of
/// 16: with adaptive limits every task succeeds and the host sees few 503s; with them off it sees
/// many more.
@Suite struct AdaptiveLimitEndToEndTests {
    /// Runs 150 tasks against a host of capacity 3; answers (every task succeeded, the 503s sent).
    private func run(adaptive: Bool) async throws -> (allSucceeded: Bool, overloaded: Int) {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        let arguments = [
            "--per-host-concurrency", "16", "--processes", "1", "--concurrency", "32",
            "--adaptive-per-host", adaptive ? "on" : "off",
        ]
        return try await withRunningService(arguments: arguments) { service, _ in
            let tasks = (1...150).map { #"{"url":"\#(target.baseURL)/capacity/3/40/\#($0)"}"# }
            let response = try await TestClient.post(
                "\(service.baseURL)/v1/jobs",
                json:
                    #"{"tasks":[\#(tasks.joined(separator: ","))],"max_attempts":100,"retry_base_ms":20,"retry_max_ms":200}"#
            )
            let job = try #require(response.json?["id"]?.stringValue, "\(response.text)")
            let done = try await eventually(timeout: .seconds(300)) {
                try await TestClient.get("\(service.baseURL)/v1/jobs/\(job)").json?["state"] == "completed"
            }
            #expect(done)
            let counts = try await TestClient.get("\(service.baseURL)/v1/jobs/\(job)").json?["counts"]
            if adaptive {
                let hosts = try await TestClient.get("\(service.baseURL)/v1/hosts").json?["hosts"]?.arrayValue ?? []
                #expect(hosts.first?["max_limit"] == 16)
                let limit = hosts.first?["limit"]?.intValue ?? 0
                #expect((1...16).contains(limit))
                let metrics = try await TestClient.get("\(service.baseURL)/metrics").text
                #expect(metrics.contains("fetchq_host_limit_decreases_total"))
            }
            return (counts?["succeeded"] == 150, target.overloadedAnswers)
        }
    }

    @Test func anOverloadedHostIsSparedByTheAdaptiveLimit() async throws {
        let adaptive = try await run(adaptive: true)
        let fixed = try await run(adaptive: false)
        print(
            "503s sent by a host of capacity 3 for 150 tasks: adaptive \(adaptive.overloaded), fixed \(fixed.overloaded)"
        )
        #expect(adaptive.allSucceeded, "every task succeeds")
        #expect(
            adaptive.overloaded * 3 < fixed.overloaded, "adaptive \(adaptive.overloaded), fixed \(fixed.overloaded)")
        #expect(adaptive.overloaded < 150, "fewer 503s than tasks")
    }
}
