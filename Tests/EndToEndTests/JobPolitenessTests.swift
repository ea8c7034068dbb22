import Foundation
import JSON
import TestSupport
import Testing

/// Two jobs on one host, each with its own `per_host_concurrency`, measured on the host's side; a
/// job's `per_host_interval_ms` spacing its requests; out-of-range values refused.
@Suite struct JobPolitenessTests {
    @Test func twoJobsOnOneHostEachKeepTheirOwnLimit() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService(arguments: ["--per-host-concurrency", "16", "--processes", "2"]) { service, _ in
            func submit(lane: String, limit: Int) async throws -> String {
                let tasks = (1...40).map { #"{"url":"\#(target.baseURL)/lane/\#(lane)/60/\#($0)"}"# }
                let response = try await TestClient.post(
                    "\(service.baseURL)/v1/jobs",
                    json: #"{"tasks":[\#(tasks.joined(separator: ","))],"per_host_concurrency":\#(limit)}"#)
                return try #require(response.json?["id"]?.stringValue, "\(response.text)")
            }
            let strict = try await submit(lane: "strict", limit: 2)
            let loose = try await submit(lane: "loose", limit: 6)
            for job in [strict, loose] {
                let done = try await eventually(timeout: .seconds(180)) {
                    try await TestClient.get("\(service.baseURL)/v1/jobs/\(job)").json?.at("counts.succeeded") == 40
                }
                #expect(done)
            }
            #expect(target.maxInFlight(lane: "strict") <= 2, "\(target.maxInFlight(lane: "strict"))")
            #expect(target.maxInFlight(lane: "loose") <= 6, "\(target.maxInFlight(lane: "loose"))")
            #expect(target.maxInFlight(lane: "loose") > 2, "the looser job is not held to the stricter's limit")
            #expect(try await TestClient.get("\(service.baseURL)/v1/jobs/\(strict)").json?["per_host_concurrency"] == 2)
        }
    }

    @Test func aJobsIntervalSpacesItsRequestsToAHost() async throws {
        let site = try RobotsSite(robots: [])
        defer { Task { await site.stop() } }
        try await withRunningService(arguments: ["--per-host-concurrency", "16"]) { service, _ in
            let tasks = (1...4).map { #"{"url":"\#(site.baseURL)/spaced/\#($0)"}"# }
            let response = try await TestClient.post(
                "\(service.baseURL)/v1/jobs",
                json: #"{"tasks":[\#(tasks.joined(separator: ","))],"per_host_interval_ms":1000}"#)
            let job = try #require(response.json?["id"]?.stringValue, "\(response.text)")
            let done = try await eventually(timeout: .seconds(180)) {
                try await TestClient.get("\(service.baseURL)/v1/jobs/\(job)").json?.at("counts.succeeded") == 4
            }
            #expect(done)
            let arrivals = site.pageArrivals
            #expect(arrivals.count == 4)
            for (earlier, later) in zip(arrivals, arrivals.dropFirst()) {
                #expect(later - earlier >= .milliseconds(750), "\(later - earlier)")
            }
        }
    }

    @Test func outOfRangeLimitsAreRefusedNamingTheField() async throws {
        try await withRunningService { service, _ in
            for (field, value) in [
                ("per_host_concurrency", "0"), ("per_host_concurrency", "1001"), ("per_host_concurrency", "\"2\""),
                ("per_host_interval_ms", "-1"), ("per_host_interval_ms", "3600001"),
            ] {
                let response = try await TestClient.post(
                    "\(service.baseURL)/v1/jobs",
                    json: #"{"tasks":[{"url":"http://127.0.0.1:9/a"}],"\#(field)":\#(value)}"#)
                #expect(response.status == 422, "\(field)=\(value)")
                #expect(response.json?["field"] == .string(field), "\(field)=\(value)")
            }
            #expect(try await TestClient.get("\(service.baseURL)/v1/jobs").json?["jobs"]?.arrayValue?.isEmpty == true)
        }
    }
}
