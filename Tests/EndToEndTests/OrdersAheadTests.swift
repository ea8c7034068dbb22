import Foundation
import JSON
import TestSupport
import Testing

/// Orders a worker holds queued behind its concurrency (README, "Orders ahead"), with a real
/// service, real worker processes and a real target.
@Suite struct OrdersAheadTests {
    @Test func aTaskCanceledWhileQueuedInAWorkerIsNeverFetched() async throws {
        try await withOneSlot { service, target in
            // The first holds the worker's one slot for a minute (until it is canceled), so the
            // second waits queued behind it however slowly a loaded machine polls.
            let submitted = try await TestClient.post(
                "\(service.baseURL)/v1/jobs",
                json: #"""
                    {"tasks":[{"url":"\#(target.baseURL)/work/first/60000","timeout_ms":90000},
                              {"url":"\#(target.baseURL)/ok/queued"}]}
                    """#)
            let jobID = try #require(submitted.json?["id"]?.stringValue)
            let taskIDs = (submitted.json?["task_ids"]?.arrayValue ?? []).compactMap(\.stringValue)
            try #require(taskIDs.count == 2)
            // Both are out to the worker (running, as the store sees them); only the first is fetched.
            let bothOut = try await eventually {
                try await jobCount(service, jobID, "counts.running") == 2 && target.requests("/work/first/60000") == 1
            }
            #expect(bothOut, "log:\n\(service.log)")
            let canceled = try await TestClient.request("POST", "\(service.baseURL)/v1/tasks/\(taskIDs[1])/cancel")
            #expect(canceled.status == 200)
            let secondEnded = try await eventually { try await jobCount(service, jobID, "counts.canceled") == 1 }
            #expect(secondEnded, "log:\n\(service.log)")
            // Then the first, so the slot frees and the job ends; the second must still not start.
            let first = try await TestClient.request("POST", "\(service.baseURL)/v1/tasks/\(taskIDs[0])/cancel")
            #expect(first.status == 200)
            let done = try await eventually { try await jobCount(service, jobID, "counts.canceled") == 2 }
            #expect(done, "log:\n\(service.log)")
            let second = try await TestClient.get("\(service.baseURL)/v1/tasks/\(taskIDs[1])")
            #expect(second.json?["state"]?.stringValue == "canceled")
            #expect(target.requests("/ok/queued") == 0)
        }
    }

    @Test func anOrderQueuedInAWorkerRunsWithItsOwnWholeTimeout() async throws {
        try await withOneSlot { service, target in
            // The second waits about 4 s queued behind the first, then takes 1 s: 5 s after it was
            // sent, but only 1 s of its own 4.5 s budget, which counts from its fetch's start
            // (3.5 s of slack for a loaded machine).
            let submitted = try await TestClient.post(
                "\(service.baseURL)/v1/jobs",
                json: #"""
                    {"tasks":[{"url":"\#(target.baseURL)/work/a/4000","timeout_ms":30000},
                              {"url":"\#(target.baseURL)/work/b/1000","timeout_ms":4500}],
                     "max_attempts":1}
                    """#)
            let jobID = try #require(submitted.json?["id"]?.stringValue)
            let taskIDs = (submitted.json?["task_ids"]?.arrayValue ?? []).compactMap(\.stringValue)
            try #require(taskIDs.count == 2)
            let done = try await eventually(timeout: .seconds(60)) {
                try await TestClient.get("\(service.baseURL)/v1/jobs/\(jobID)").json?["state"]?.stringValue
                    == "completed"
            }
            #expect(done, "log:\n\(service.log)")
            let second = try await TestClient.get("\(service.baseURL)/v1/tasks/\(taskIDs[1])")
            #expect(second.json?["state"]?.stringValue == "succeeded", "\(second.text)")
            #expect(target.requests("/work/b/1000") == 1)
        }
    }

    /// A service with one worker of one slot (so a second task waits queued behind the first) and
    /// a target; both stopped afterwards.
    private func withOneSlot(_ body: (ServiceProcess, TargetServer) async throws -> Void) async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withTemporaryDirectory { directory in
            let service = try await ServiceProcess.start(
                database: directory.appending(path: "fetchq.db"),
                arguments: ["--processes", "1", "--concurrency", "1"])
            defer { Task { await service.terminate() } }
            try await body(service, target)
        }
    }
}
