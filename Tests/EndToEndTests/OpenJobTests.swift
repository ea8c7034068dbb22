import Foundation
import JSON
import TestSupport
import Testing

/// Jobs larger than one request: open, append batches, seal.
@Suite struct OpenJobTests {
    @Test func anOpenJobStaysPendingUntilSealedThenCompletes() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService { service, _ in
            let base = service.baseURL
            let created = try await TestClient.post("\(base)/v1/jobs", json: #"{"open": true}"#)
            #expect(created.status == 201)
            let id = try #require(created.json?["id"]?.stringValue)
            let batch = #"{"tasks": [{"url": "\#(target.baseURL)/ok/a"}, {"url": "\#(target.baseURL)/ok/b"}]}"#
            let key = [("Idempotency-Key", "batch-1")]
            let first = try await TestClient.request("POST", "\(base)/v1/jobs/\(id)/tasks", json: batch, headers: key)
            #expect(first.status == 201)
            #expect(first.json?["task_count"]?.intValue == 2)
            let replayed = try await TestClient.request(
                "POST", "\(base)/v1/jobs/\(id)/tasks", json: batch, headers: key)
            #expect(replayed.status == 201)
            #expect(replayed.headers["idempotent-replayed"] == "true")
            // Every task so far ends, and the job still takes more: it is not completed.
            let allFinal = try await eventually {
                try await TestClient.get("\(base)/v1/jobs/\(id)").json?.at("counts.succeeded")?.intValue == 2
            }
            #expect(allFinal)
            let open = try await TestClient.get("\(base)/v1/jobs/\(id)").json
            #expect(open?["state"]?.stringValue == "pending")
            #expect(open?["task_count"]?.intValue == 2)
            #expect(open?["finished_at"] == .null)
            let sealed = try await TestClient.request("POST", "\(base)/v1/jobs/\(id)/seal")
            #expect(sealed.status == 200)
            #expect(sealed.json?["state"]?.stringValue == "completed")
            #expect(sealed.json?["open"] == .bool(false))
            let late = try await TestClient.request("POST", "\(base)/v1/jobs/\(id)/tasks", json: batch)
            #expect(late.status == 409)
            #expect(late.json?["code"]?.stringValue == "job_not_open")
            let unknown = try await TestClient.request(
                "POST", "\(base)/v1/jobs/01JD9Z6Y8T3Q8W1V2X3Y4Z5A6B/tasks", json: batch)
            #expect(unknown.status == 404)
        }
    }

    @Test func jobFinishedIsSentOnlyOnceTheOpenJobIsSealed() async throws {
        try await withTargetAndReceiver { target, receiver in
            try await withRunningService(arguments: quickWebhooks) { service, _ in
                let base = service.baseURL
                let created = try await TestClient.post(
                    "\(base)/v1/jobs", json: #"{"open": true, "callback_url": "\#(receiver.baseURL)/ok"}"#)
                let id = try #require(created.json?["id"]?.stringValue)
                let batch = #"{"tasks": [{"url": "\#(target.baseURL)/ok/a"}, {"url": "\#(target.baseURL)/ok/b"}]}"#
                #expect(try await TestClient.request("POST", "\(base)/v1/jobs/\(id)/tasks", json: batch).status == 201)
                // The deliveries are created with the state changes, in the same transaction: once
                // both tasks are final, a job.finished would be listed already.
                let tasksDone = try await eventually {
                    try await TestClient.get("\(base)/v1/jobs/\(id)").json?.at("counts.succeeded")?.intValue == 2
                }
                #expect(tasksDone)
                let before = try await TestClient.get("\(base)/v1/jobs/\(id)/deliveries").json?["deliveries"]?
                    .arrayValue
                #expect(
                    before?.compactMap { $0["event_type"]?.stringValue }.sorted() == ["task.finished", "task.finished"])
                #expect(try await TestClient.request("POST", "\(base)/v1/jobs/\(id)/seal").status == 200)
                let sent = try await eventually {
                    try await receiver.calls().contains { $0.type == "job.finished" && $0.jobID == id }
                }
                #expect(sent)
            }
        }
    }

    @Test func resultsStreamEveryTaskInSubmitOrderAsNDJSON() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService { service, _ in
            let base = service.baseURL
            let urls = (0..<1_200).map { index in
                let path = index % 10 == 0 ? "status/404" : "ok/\(index)"
                return #"{"url": "\#(target.baseURL)/\#(path)"}"#
            }
            let created = try await TestClient.post(
                "\(base)/v1/jobs", json: #"{"max_attempts": 1, "tasks": [\#(urls.joined(separator: ","))]}"#)
            let id = try #require(created.json?["id"]?.stringValue)
            let ids = created.json?["task_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let done = try await eventually(timeout: .seconds(120)) {
                try await TestClient.get("\(base)/v1/jobs/\(id)").json?["state"]?.stringValue == "completed"
            }
            #expect(done)
            let all = try await TestClient.get("\(base)/v1/jobs/\(id)/results")
            #expect(all.status == 200)
            #expect(all.headers["content-type"] == "application/x-ndjson")
            #expect(all.headers["transfer-encoding"] == "chunked")
            let lines = all.text.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
            #expect(lines.compactMap { $0["id"]?.stringValue } == ids)
            #expect(lines[1]["status_code"]?.intValue == 200)
            #expect(lines[1]["body_bytes"]?.intValue == "ok 1".utf8.count)
            let failed = try await TestClient.get("\(base)/v1/jobs/\(id)/results?state=failed&bodies=base64")
            let failedLines = failed.text.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
            #expect(failedLines.count == 120)
            #expect(failedLines.allSatisfy { $0["status_code"]?.intValue == 404 && $0["state"] == "failed" })
            #expect(failedLines.first?["body_base64"]?.stringValue == Data("status 404".utf8).base64EncodedString())
            let bad = try await TestClient.get("\(base)/v1/jobs/\(id)/results?state=done")
            #expect(bad.status == 422)
        }
    }
}
