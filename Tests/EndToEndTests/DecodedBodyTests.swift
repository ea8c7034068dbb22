import Foundation
import JSON
import TestSupport
import Testing

/// `decode_content` against a real local server that compresses with the real encoders: gzip,
/// zlib-wrapped and raw deflate and br decoded byte for byte, the body limit counting decoded bytes
/// (a gzip bomb cut at the limit), a corrupt stream failing with `decode_error`, and bodies stored
/// as sent without it.
@Suite struct DecodedBodyTests {
    /// Submits one task with `fields` (JSON members) and answers it once it is final.
    private func run(_ service: ServiceProcess, _ url: String, _ fields: String = "") async throws -> JSONValue {
        let response = try await TestClient.post(
            "\(service.baseURL)/v1/jobs", json: #"{"tasks":[{"url":"\#(url)"\#(fields)}],"max_attempts":1}"#)
        let id = try #require(response.json?["task_ids"]?.arrayValue?.first?.stringValue, "\(response.text)")
        var task: JSONValue?
        let final = try await eventually(timeout: .seconds(180)) {
            task = try await TestClient.get("\(service.baseURL)/v1/tasks/\(id)").json
            return ["succeeded", "failed"].contains(task?["state"]?.stringValue ?? "")
        }
        #expect(final)
        return try #require(task)
    }

    @Test func everyCodingIsDecodedByteForByte() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService { service, _ in
            for compression in Compression.allCases {
                let task = try await run(
                    service, "\(target.baseURL)/encoded/\(compression.rawValue)/200000", #","decode_content":true"#)
                #expect(task["state"] == "succeeded", "\(compression)")
                #expect(task.at("outcome.content_encoding") == .string(compression.coding.rawValue))
                #expect(task.at("outcome.headers.x-asked-encoding") == "gzip, deflate, br")
                #expect(task.at("outcome.body_bytes") == 200_000)
                let id = try #require(task["id"]?.stringValue)
                let body = try await TestClient.get("\(service.baseURL)/v1/tasks/\(id)/body")
                let exact = body.body == EncodedBodies.content(count: 200_000)
                #expect(exact, "\(compression): byte for byte")
                #expect(body.headers["content-encoding"] == nil, "served decoded")
            }
        }
    }

    @Test func theLimitCountsDecodedBytesSoABombIsCutThere() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService(arguments: ["--max-body-bytes", "1048576"]) { service, _ in
            let task = try await run(service, "\(target.baseURL)/bomb/10000000", #","decode_content":true"#)
            #expect(task["state"] == "succeeded")
            #expect(task.at("outcome.body_truncated") == .bool(true))
            #expect(task.at("outcome.body_bytes") == 1_048_576)
            let id = try #require(task["id"]?.stringValue)
            let body = try await TestClient.get("\(service.baseURL)/v1/tasks/\(id)/body")
            let zeros = body.body.count == 1_048_576 && body.body.allSatisfy { $0 == 0 }
            #expect(zeros)
        }
    }

    @Test func aCorruptStreamFailsWithDecodeError() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService { service, _ in
            let task = try await run(service, "\(target.baseURL)/corrupt", #","decode_content":true"#)
            #expect(task["state"] == "failed")
            #expect(task.at("outcome.error") == "decode_error")
            #expect(task["failure_reason"] == "not_retryable")
            #expect(task.at("outcome.error_message")?.stringValue?.contains("gzip") == true)
        }
    }

    @Test func withoutItTheBodyIsStoredAsSentAndNothingIsAskedFor() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService { service, _ in
            let task = try await run(service, "\(target.baseURL)/encoded/gzip/5000")
            #expect(task["state"] == "succeeded")
            #expect(task.at("outcome.content_encoding") == .null)
            #expect(task.at("outcome.headers.x-asked-encoding") == "-")
            let sent = Compression.gzip.compress(EncodedBodies.content(count: 5_000))
            #expect(task.at("outcome.body_bytes") == .integer(sent.count), "the gzip stream, stored as sent")
            let id = try #require(task["id"]?.stringValue)
            let body = try await TestClient.get("\(service.baseURL)/v1/tasks/\(id)/body")
            #expect(body.headers["content-encoding"] == "gzip")
        }
    }

    @Test func aJobsDecodeContentIsTheDefaultOfItsTasks() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService { service, _ in
            let response = try await TestClient.post(
                "\(service.baseURL)/v1/jobs",
                json: #"""
                    {"decode_content":true,"tasks":[{"url":"\#(target.baseURL)/encoded/brotli/3000"},
                     {"url":"\#(target.baseURL)/encoded/gzip/3000","decode_content":false}]}
                    """#)
            let job = try #require(response.json?["id"]?.stringValue, "\(response.text)")
            let done = try await eventually(timeout: .seconds(180)) {
                try await TestClient.get("\(service.baseURL)/v1/jobs/\(job)").json?.at("counts.succeeded") == 2
            }
            #expect(done)
            let results = try await TestClient.get("\(service.baseURL)/v1/jobs/\(job)/results").text
                .split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) }
            #expect(results.map { $0["decoded_from"] } == [.string("br"), .null])
            #expect(results.map { $0["content_encoding"] } == [.null, .string("gzip")])
            let bad = try await TestClient.post(
                "\(service.baseURL)/v1/jobs", json: #"{"tasks":[{"url":"http://127.0.0.1:9/","decode_content":"yes"}]}"#
            )
            #expect(bad.status == 422)
            #expect(bad.json?["field"] == "tasks[0].decode_content")
        }
    }
}

/// `unique_urls` through the API: the answer lists one id per submitted task and counts the
/// repeats, across appends to an open job; only the distinct requests reach the target.
@Suite struct UniqueURLTests {
    @Test func repeatsAreNotCreatedAndNameTheirTask() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService { service, _ in
            let base = service.baseURL
            let created = try await TestClient.post(
                "\(base)/v1/jobs",
                json: #"""
                    {"open":true,"unique_urls":true,"tasks":[{"url":"\#(target.baseURL)/ok/a"},
                     {"url":"\#(target.baseURL)/ok/a"},{"url":"\#(target.baseURL)/ok/b"}]}
                    """#)
            #expect(created.status == 201)
            #expect(created.json?["task_count"] == 2)
            #expect(created.json?["duplicates"] == 1)
            let ids = created.json?["task_ids"]?.arrayValue ?? []
            #expect(ids.count == 3)
            #expect(ids.count == 3 && ids[0] == ids[1])
            let job = try #require(created.json?["id"]?.stringValue)
            let batch = try await TestClient.request(
                "POST", "\(base)/v1/jobs/\(job)/tasks",
                json: #"{"tasks":[{"url":"\#(target.baseURL)/ok/b"},{"url":"\#(target.baseURL)/ok/c"}]}"#)
            #expect(batch.status == 201)
            #expect(batch.json?["duplicates"] == 1)
            #expect(batch.json?["task_ids"]?.arrayValue?.first == ids.last, "the earlier /b stands for it")
            _ = try await TestClient.request("POST", "\(base)/v1/jobs/\(job)/seal")
            let done = try await eventually(timeout: .seconds(180)) {
                try await TestClient.get("\(base)/v1/jobs/\(job)").json?["state"] == "completed"
            }
            #expect(done)
            #expect(try await TestClient.get("\(base)/v1/jobs/\(job)").json?["task_count"] == 3)
            #expect(["/ok/a", "/ok/b", "/ok/c"].map(target.requests) == [1, 1, 1])
        }
    }
}
