import API
import Foundation
import Store
import TestSupport
import Testing

@Suite struct IdempotencyTests {
    @Test func theSameKeyAndBodyReturnTheOriginalJobAndStoreNothingNew() async throws {
        try await withAPI { base, store in
            let headers = [("content-type", "application/json"), ("idempotency-key", "order-42")]
            let first = try await TestClient.request("POST", "\(base)/v1/jobs", json: exampleJob, headers: headers)
            let second = try await TestClient.request("POST", "\(base)/v1/jobs", json: exampleJob, headers: headers)
            #expect(first.status == 201)
            #expect(second.status == 201)
            #expect(second.body == first.body)
            #expect(second.headers["idempotent-replayed"] == "true")
            #expect(try store.totals().total == 2)
        }
    }

    @Test func theSameKeyWithAnotherBodyIsRefused() async throws {
        try await withAPI { base, store in
            let headers = [("content-type", "application/json"), ("idempotency-key", "order-43")]
            _ = try await TestClient.request("POST", "\(base)/v1/jobs", json: exampleJob, headers: headers)
            let other = try await TestClient.request(
                "POST", "\(base)/v1/jobs", json: #"{"tasks":[{"url":"http://example.test/"}]}"#, headers: headers)
            #expect(other.status == 422)
            #expect(other.json?["field"] == "Idempotency-Key")
            #expect(try store.totals().total == 2)
        }
    }

    @Test func concurrentDuplicatesStoreOneJob() async throws {
        try await withAPI { base, store in
            let tasks = Array(repeating: #"{"url":"http://example.test/"}"#, count: 5_000).joined(separator: ",")
            let body = #"{"tasks":[\#(tasks)]}"#
            let headers = [("content-type", "application/json"), ("idempotency-key", "burst")]
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await TestClient.request("POST", "\(base)/v1/jobs", json: body, headers: headers)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let created = responses.filter { $0.status == 201 }
            #expect(!created.isEmpty)
            #expect(Set(created.map(\.body)).count == 1, "every 201 carries the same job")
            #expect(responses.allSatisfy { $0.status == 201 || $0.status == 409 })
            #expect(try store.totals().total == 5_000)
        }
    }

    @Test func anOverlongKeyIsRefused() async throws {
        try await withAPI { base, store in
            let response = try await TestClient.request(
                "POST", "\(base)/v1/jobs", json: exampleJob,
                headers: [
                    ("content-type", "application/json"), ("idempotency-key", String(repeating: "k", count: 256)),
                ])
            #expect(response.status == 422)
            #expect(try store.totals().total == 0)
        }
    }
}

@Suite struct SchedulingFieldTests {
    @Test func delayAndPriorityAreStoredPerJobAndPerTask() async throws {
        try await withAPI { base, _ in
            let later = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 2 * 86_400).rounded())
            let laterText = later.formatted(Date.ISO8601FormatStyle())
            let sent = Date()
            let response = try await TestClient.post(
                "\(base)/v1/jobs",
                json: #"""
                    {"delay_ms": 60000, "priority": 5,
                     "tasks": [{"url": "http://example.test/a"},
                               {"url": "http://example.test/b", "priority": 9, "not_before": "\#(laterText)"}]}
                    """#)
            let answered = Date()
            #expect(response.status == 201)
            let ids = (response.json?["task_ids"]?.arrayValue ?? []).compactMap(\.stringValue)
            let first = try await TestClient.get("\(base)/v1/tasks/\(ids[0])").json
            let second = try await TestClient.get("\(base)/v1/tasks/\(ids[1])").json
            #expect(first?["priority"] == 5)
            let due = try #require(first?["next_attempt_at"]?.stringValue)
            let dueDate = try Date(due, strategy: .iso8601)
            // 60 s after the server accepted the job, which it did between `sent` and `answered`
            // (timestamps are whole milliseconds).
            #expect(dueDate >= sent.addingTimeInterval(60 - 0.001))
            #expect(dueDate <= answered.addingTimeInterval(60 + 0.001))
            #expect(second?["priority"] == 9)
            let secondDue = try #require(second?["next_attempt_at"]?.stringValue)
            #expect(try Date(secondDue, strategy: .iso8601) == later)
        }
    }

    @Test func aFailedTaskCanBeRetriedWithFreshAttempts() async throws {
        try await withAPI { base, store in
            let submitted = try await TestClient.post("\(base)/v1/jobs", json: exampleJob).json
            let taskID = try #require(submitted?["task_ids"]?.arrayValue?.first?.stringValue)
            let queued = try await TestClient.request("POST", "\(base)/v1/tasks/\(taskID)/retry")
            #expect(queued.status == 409)
            // Fail it the way the engine would.
            let claimed = try await store.claim(limit: 1, now: WallClock.nowMillis(), leaseMarginMillis: 0)
            let lease = try #require(claimed.first)
            _ = try await store.record([
                AttemptResult(
                    seq: lease.seq, attempt: lease.attempt, outcome: Outcome(statusCode: 404),
                    disposition: .failed(.notRetryable), body: nil, finishedAt: WallClock.nowMillis())
            ])
            let failed = try await TestClient.get("\(base)/v1/tasks/\(taskID)").json
            #expect(failed?["state"] == "failed")
            #expect(failed?["failure_reason"] == "not_retryable")
            #expect(failed?["attempts_log"]?.arrayValue?.count == 1)
            let retried = try await TestClient.request("POST", "\(base)/v1/tasks/\(taskID)/retry")
            #expect(retried.status == 200)
            #expect(retried.json?["state"] == "queued")
            #expect(retried.json?["attempts"] == 0)
        }
    }
}
