import Foundation
import JSON
import Store
import TestSupport
import Testing

/// `POST /v1/jobs/{id}/pause|resume` and `POST /v1/hosts/{host}/pause|resume`: what they answer,
/// what they show, and every refusal. No engine runs: tasks stay queued.
@Suite struct PauseRouteTests {
    @Test func pausingAJobShowsItPausedAndItsTasksWaitingUntilResumed() async throws {
        try await withAPI { base, store in
            let id = try #require(
                try await TestClient.post("\(base)/v1/jobs", json: exampleJob).json?["id"]?.stringValue)
            #expect(try await TestClient.get("\(base)/v1/jobs/\(id)").json?["paused"] == false, "always present")
            for _ in 0..<2 {
                let paused = try await TestClient.request("POST", "\(base)/v1/jobs/\(id)/pause")
                #expect(paused.status == 200, "idempotent")
                #expect(paused.json?["paused"] == true)
                #expect(paused.json?["id"]?.stringValue == id)
            }
            #expect(try await TestClient.get("\(base)/v1/jobs/\(id)").json?["paused"] == true)
            let tasks = try await TestClient.get("\(base)/v1/jobs/\(id)/tasks").json?["tasks"]?.arrayValue ?? []
            #expect(tasks.count == 2)
            #expect(tasks.allSatisfy { $0["waiting_for"] == "job_paused" })
            #expect(try store.totals().queued == 2)

            let resumed = try await TestClient.request("POST", "\(base)/v1/jobs/\(id)/resume")
            #expect(resumed.status == 200)
            #expect(resumed.json?["paused"] == false)
            let after = try await TestClient.get("\(base)/v1/jobs/\(id)/tasks").json?["tasks"]?.arrayValue ?? []
            #expect(after.allSatisfy { $0["waiting_for"] != "job_paused" })
        }
    }

    @Test func pausingAnUnknownOrCompletedJobIsRefused() async throws {
        try await withAPI { base, _ in
            for verb in ["pause", "resume"] {
                let unknown = try await TestClient.request("POST", "\(base)/v1/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/\(verb)")
                #expect(unknown.status == 404)
                #expect(unknown.headers["content-type"] == "application/problem+json")
                let malformed = try await TestClient.request("POST", "\(base)/v1/jobs/not-an-id/\(verb)")
                #expect(malformed.status == 404)
            }
            let id = try #require(
                try await TestClient.post("\(base)/v1/jobs", json: exampleJob).json?["id"]?.stringValue)
            #expect(try await TestClient.request("POST", "\(base)/v1/jobs/\(id)/pause").status == 200)
            #expect(try await TestClient.request("POST", "\(base)/v1/jobs/\(id)/cancel").json?["canceled"] == 2)
            for verb in ["pause", "resume"] {
                let completed = try await TestClient.request("POST", "\(base)/v1/jobs/\(id)/\(verb)")
                #expect(completed.status == 409)
                #expect(completed.json?["code"] == "job_completed")
                #expect(completed.headers["content-type"] == "application/problem+json")
            }
        }
    }

    @Test func pausingAHostShowsItPausedAndItsTasksWaitingUntilResumed() async throws {
        try await withAPI { base, store in
            let taskID = try #require(
                try await TestClient.post("\(base)/v1/jobs", json: exampleJob).json?["task_ids"]?.arrayValue?.first?
                    .stringValue)
            let paused = try await TestClient.post(
                "\(base)/v1/hosts/127.0.0.1%3A9000/pause", json: #"{"for_ms": 600000}"#)
            #expect(paused.status == 200)
            #expect(paused.json?["host"] == "127.0.0.1:9000")
            let until = try #require(paused.json?["paused_until"]?.stringValue)
            let task = try await TestClient.get("\(base)/v1/tasks/\(taskID)").json
            #expect(task?["waiting_for"] == "host_paused")
            #expect(task?["waiting_until"]?.stringValue == until)
            let listed = try await TestClient.get("\(base)/v1/hosts").json?["hosts"]?.arrayValue ?? []
            #expect(listed.first { $0["host"] == "127.0.0.1:9000" }?["paused_until"]?.stringValue == until)
            #expect(try await store.hostPauses(now: WallClock.nowMillis()).keys.sorted() == ["127.0.0.1:9000"])

            let later = try await TestClient.post(
                "\(base)/v1/hosts/idle.example/pause", json: #"{"until": "2099-01-01T00:00:00Z"}"#)
            #expect(later.status == 422, "more than 365 days ahead")
            let soon = Representation.iso8601(WallClock.nowMillis() + 3_600_000)
            let idle = try await TestClient.post("\(base)/v1/hosts/idle.example/pause", json: #"{"until": "\#(soon)"}"#)
            #expect(idle.status == 200, "a host with no tasks may be paused too")
            #expect(idle.json?["paused_until"]?.stringValue == soon)

            let resumed = try await TestClient.request("POST", "\(base)/v1/hosts/127.0.0.1%3A9000/resume")
            #expect(resumed.status == 200)
            #expect(resumed.json?["paused_until"] == .null)
            #expect(try await TestClient.get("\(base)/v1/tasks/\(taskID)").json?["waiting_for"] != "host_paused")
            #expect(try await TestClient.request("POST", "\(base)/v1/hosts/127.0.0.1%3A9000/resume").status == 200)
        }
    }

    /// Every bad input answers 422 naming the field, and stores nothing.
    @Test(arguments: [
        (#"{}"#, "until"), (#"{"until": "2030-01-01T00:00:00Z", "for_ms": 5}"#, "for_ms"),
        (#"{"until": "tomorrow"}"#, "until"), (#"{"until": 5}"#, "until"),
        (#"{"until": "2001-01-01T00:00:00Z"}"#, "until"), (#"{"for_ms": 0}"#, "for_ms"),
        (#"{"for_ms": 31536000001}"#, "for_ms"), (#"{"for_ms": -1}"#, "for_ms"), (#"{"for_ms": 1.5}"#, "for_ms"),
        (#"{"for_ms": "10"}"#, "for_ms"), (#"{"for_ms": 10, "reason": "x"}"#, "reason"), (#"[1]"#, "body"),
    ])
    func aBadPauseBodyIsRefusedNamingTheField(body: String, field: String) async throws {
        try await withAPI { base, store in
            let response = try await TestClient.post("\(base)/v1/hosts/example.com/pause", json: body)
            #expect(response.status == 422, "\(body)")
            #expect(response.headers["content-type"] == "application/problem+json")
            #expect(response.json?["field"]?.stringValue == field, "\(body)")
            #expect(try await store.hostPauses(now: 0).isEmpty)
        }
    }

    @Test(arguments: [
        "Example.com", "example.com:0", "example.com:65536", "example.com:", "example.com:80x", "-a.example",
        "a..example", "exa_mple.com", "[::1", "[xyz::1]", "a%20b", "example.com:080",
    ])
    func aHostThatIsNotHostAndPortIsRefused(host: String) async throws {
        try await withAPI { base, store in
            let encoded = host.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? host
            for verb in ["pause", "resume"] {
                let response = try await TestClient.post(
                    "\(base)/v1/hosts/\(encoded)/\(verb)", json: #"{"for_ms": 10}"#)
                #expect(response.status == 422, "\(host) \(verb)")
                #expect(response.json?["field"] == "host", "\(host) \(verb)")
            }
            #expect(try await store.hostPauses(now: 0).isEmpty)
        }
    }

    @Test(arguments: ["example.com", "example.com:8080", "10.0.0.1:65535", "[::1]:8080", "[2001:db8::1]", "a-b.c1"])
    func aHostAndPortIsAccepted(host: String) async throws {
        try await withAPI { base, _ in
            let encoded = host.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? host
            let response = try await TestClient.post("\(base)/v1/hosts/\(encoded)/pause", json: #"{"for_ms": 10000}"#)
            #expect(response.status == 200, "\(host)")
            #expect(response.json?["host"]?.stringValue == host)
        }
    }

    @Test func aPauseBodyMustBeJSON() async throws {
        try await withAPI { base, _ in
            let malformed = try await TestClient.post("\(base)/v1/hosts/example.com/pause", json: "{")
            #expect(malformed.status == 400)
            let plain = try await TestClient.request(
                "POST", "\(base)/v1/hosts/example.com/pause", body: Array("x".utf8),
                headers: [("content-type", "text/plain")])
            #expect(plain.status == 415)
        }
    }
}
