import API
import Engine
import Foundation
import HTTPServer
import Store
import StoreSQLite
import TestSupport
import Testing

/// Runs the real HTTP API on an ephemeral port over a fresh store. No engine runs, so tasks stay
/// queued: these tests are about what the API accepts, refuses and shows.
func withAPI(
    _ configuration: FetchqAPI.Configuration = .forTests(),
    server serverConfiguration: HTTPServerConfiguration = .loopbackForTests,
    _ body: (String, SQLiteStore) async throws -> Void
) async throws {
    try await withTestStore { store, _ in
        let api = FetchqAPI(store: store, configuration: configuration, logger: .quiet, wake: {}, abort: { _ in })
        let server = try HTTPServer(configuration: serverConfiguration, logger: .quiet, responder: api)
        try await withRunning(server) { try await body("http://127.0.0.1:\(server.port)", store) }
    }
}

let exampleJob = """
    {"tasks": [{"url": "http://127.0.0.1:9000/a"},
               {"url": "http://127.0.0.1:9000/b", "method": "POST",
                "headers": {"content-type": "text/plain"}, "body": "hello"}],
     "timeout_ms": 10000}
    """

@Suite struct SubmitRouteTests {
    @Test func submitAnswers201WithIDsAfterStoringTheBatch() async throws {
        try await withAPI { base, store in
            let response = try await TestClient.post("\(base)/v1/jobs", json: exampleJob)
            #expect(response.status == 201)
            let json = try #require(response.json)
            let id = try #require(json["id"]?.stringValue)
            #expect(response.headers["location"] == "/v1/jobs/\(id)")
            #expect(json["task_count"] == 2)
            #expect(json["task_ids"]?.arrayValue?.count == 2)
            #expect(try store.totals().queued == 2)

            let job = try await TestClient.get("\(base)/v1/jobs/\(id)")
            #expect(job.status == 200)
            #expect(job.json?["state"] == "pending")
            #expect(job.json?.at("counts.queued") == 2)
            #expect(job.json?["timeout_ms"] == 10_000)
        }
    }

    @Test func aTaskShowsItsRequestAndHasNoBodyBeforeItRuns() async throws {
        try await withAPI { base, _ in
            let submitted = try await TestClient.post("\(base)/v1/jobs", json: exampleJob).json
            let taskID = try #require(submitted?["task_ids"]?.arrayValue?.last?.stringValue)
            let task = try await TestClient.get("\(base)/v1/tasks/\(taskID)")
            #expect(task.status == 200)
            #expect(task.json?["state"] == "queued")
            #expect(task.json?.at("request.method") == "POST")
            #expect(task.json?.at("request.headers.content-type") == "text/plain")
            #expect(task.json?.at("request.body_bytes") == 5)
            #expect(task.json?["outcome"] == .null)
            let body = try await TestClient.get("\(base)/v1/tasks/\(taskID)/body")
            #expect(body.status == 404)
            #expect(body.json?["code"] == "body_not_found")
        }
    }

    @Test func tasksArePagedWithACursorAndFilteredByState() async throws {
        try await withAPI { base, _ in
            let tasks = (0..<7).map { #"{"url":"http://example.test/\#($0)"}"# }.joined(separator: ",")
            let submitted = try await TestClient.post("\(base)/v1/jobs", json: #"{"tasks":[\#(tasks)]}"#).json
            let id = try #require(submitted?["id"]?.stringValue)
            var urls: [String] = []
            var cursor: String?
            repeat {
                let query = cursor.map { "&cursor=\($0)" } ?? ""
                let page = try #require(try await TestClient.get("\(base)/v1/jobs/\(id)/tasks?limit=3\(query)").json)
                urls += (page["tasks"]?.arrayValue ?? []).compactMap { $0.at("request.url")?.stringValue }
                cursor = page["next_cursor"]?.stringValue
            } while cursor != nil
            #expect(urls == (0..<7).map { "http://example.test/\($0)" })
            let failed = try await TestClient.get("\(base)/v1/jobs/\(id)/tasks?state=failed").json
            #expect(failed?["tasks"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test func cancelingAJobCancelsItsQueuedTasksOnce() async throws {
        try await withAPI { base, _ in
            let submitted = try await TestClient.post("\(base)/v1/jobs", json: exampleJob).json
            let id = try #require(submitted?["id"]?.stringValue)
            let first = try await TestClient.request("POST", "\(base)/v1/jobs/\(id)/cancel")
            #expect(first.status == 200)
            #expect(first.json?["canceled"] == 2)
            let second = try await TestClient.request("POST", "\(base)/v1/jobs/\(id)/cancel")
            #expect(second.json?["canceled"] == 0)
            let job = try await TestClient.get("\(base)/v1/jobs/\(id)").json
            #expect(job?["state"] == "completed")
            #expect(job?.at("counts.canceled") == 2)
        }
    }

    @Test func healthAndTheContractAreServed() async throws {
        try await withAPI { base, _ in
            let health = try await TestClient.get("\(base)/healthz")
            #expect(health.status == 200)
            #expect(health.json?["status"] == "ok")
            let document = try await TestClient.get("\(base)/openapi.yaml")
            #expect(document.status == 200)
            let onDisk = try String(contentsOf: packageRoot.appending(path: "openapi.yaml"), encoding: .utf8)
            #expect(document.text == onDisk)
        }
    }
}

@Suite struct BadInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let body: String
        let status: Int
        let field: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "malformed JSON", body: #"{"tasks": ["#, status: 400, field: "body"),
        Case(name: "not an object", body: "[1,2]", status: 422, field: "body"),
        Case(name: "missing tasks", body: #"{"timeout_ms": 100}"#, status: 422, field: "tasks"),
        Case(name: "tasks not an array", body: #"{"tasks": {}}"#, status: 422, field: "tasks"),
        Case(name: "empty batch", body: #"{"tasks": []}"#, status: 422, field: "tasks"),
        Case(name: "relative URL", body: #"{"tasks": [{"url": "/a"}]}"#, status: 422, field: "tasks[0].url"),
        Case(name: "ftp URL", body: #"{"tasks": [{"url": "ftp://h/a"}]}"#, status: 422, field: "tasks[0].url"),
        Case(name: "URL not a string", body: #"{"tasks": [{"url": 5}]}"#, status: 422, field: "tasks[0].url"),
        Case(
            name: "URL with a tab", body: #"{"tasks": [{"url": "http://h/a\tb"}]}"#, status: 422, field: "tasks[0].url"),
        Case(
            name: "URL with a no-break space", body: #"{"tasks": [{"url": "http://h/a\u00a0b"}]}"#, status: 422,
            field: "tasks[0].url"),
        Case(
            name: "unknown method", body: #"{"tasks": [{"url": "http://h/"}, {"url": "http://h/", "method": "BREW"}]}"#,
            status: 422, field: "tasks[1].method"),
        Case(
            name: "timeout of the wrong type", body: #"{"tasks": [{"url": "http://h/"}], "timeout_ms": "10"}"#,
            status: 422, field: "timeout_ms"),
        Case(
            name: "a boolean where a number belongs", body: #"{"tasks": [{"url": "http://h/", "max_attempts": true}]}"#,
            status: 422, field: "tasks[0].max_attempts"),
        Case(
            name: "unknown field", body: #"{"tasks": [{"url": "http://h/"}], "timeout": 5}"#, status: 422,
            field: "timeout"),
        Case(
            name: "header with a line break", body: #"{"tasks": [{"url": "http://h/", "headers": {"x": "a\nb"}}]}"#,
            status: 422, field: "tasks[0].headers.x"),
        Case(
            name: "reserved header", body: #"{"tasks": [{"url": "http://h/", "headers": {"Content-Length": "1"}}]}"#,
            status: 422, field: "tasks[0].headers.Content-Length"),
    ]

    @Test(arguments: cases)
    func badSubmissionIsRefusedNamingTheFieldAndStoresNothing(_ bad: Case) async throws {
        try await withAPI { base, store in
            let response = try await TestClient.post("\(base)/v1/jobs", json: bad.body)
            #expect(response.status == bad.status)
            #expect(response.headers["content-type"] == "application/problem+json")
            #expect(response.json?["field"]?.stringValue == bad.field)
            #expect(response.json?["status"]?.intValue == bad.status)
            #expect(try store.totals().total == 0)
        }
    }

    @Test func moreThanTenThousandTasksAreRefused() async throws {
        try await withAPI { base, store in
            let tasks = Array(repeating: #"{"url":"http://h/"}"#, count: 10_001).joined(separator: ",")
            let response = try await TestClient.post("\(base)/v1/jobs", json: #"{"tasks":[\#(tasks)]}"#)
            #expect(response.status == 422)
            #expect(response.json?["field"] == "tasks")
            #expect(try store.totals().total == 0)
        }
    }

    @Test func aBodyOverSixteenMebibytesIsRefused() async throws {
        try await withAPI { base, store in
            let huge = [UInt8](repeating: UInt8(ascii: " "), count: (16 << 20) + 1)
            let response = try await TestClient.request(
                "POST", "\(base)/v1/jobs", body: huge, headers: [("content-type", "application/json")], chunked: true)
            #expect(response.status == 413)
            #expect(response.json?["code"] == "request_too_large")
            #expect(try store.totals().total == 0)
        }
    }

    @Test func aSubmissionThatIsNotJSONIsRefused() async throws {
        try await withAPI { base, _ in
            let response = try await TestClient.request(
                "POST", "\(base)/v1/jobs", body: Array(exampleJob.utf8), headers: [("content-type", "text/plain")])
            #expect(response.status == 415)
            #expect(response.json?["field"] == "content-type")
        }
    }

    @Test func unknownRoutesIDsAndMethodsAreProblems() async throws {
        try await withAPI { base, _ in
            let route = try await TestClient.get("\(base)/v2/everything")
            #expect(route.status == 404)
            #expect(route.headers["content-type"] == "application/problem+json")
            let malformedID = try await TestClient.get("\(base)/v1/jobs/42")
            #expect(malformedID.status == 404)
            let unknownID = try await TestClient.get("\(base)/v1/tasks/01ARZ3NDEKTSV4RRFFQ69G5FAV")
            #expect(unknownID.status == 404)
            #expect(unknownID.json?["code"] == "not_found")
            let method = try await TestClient.request("DELETE", "\(base)/v1/jobs")
            #expect(method.status == 405)
            #expect(method.headers["allow"] == "GET, HEAD, POST", "/v1/jobs lists jobs and takes submissions")
            let badState = try await TestClient.get("\(base)/v1/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV/tasks?state=done")
            #expect(badState.status == 422)
            #expect(badState.json?["field"] == "state")
        }
    }
}

/// The package's root directory, found from this source file.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite struct DeleteJobRouteTests {
    @Test func aCompletedJobIsDeletedNowAndThenUnknown() async throws {
        try await withAPI { base, store in
            let submitted = try await store.submit(
                NewJob(
                    tasks: [
                        NewTask(request: FetchRequest(url: "http://a.test/"), host: "a.test", timeoutMillis: 1_000)
                    ],
                    timeoutMillis: 1_000),
                now: 1)
            _ = try await store.cancel(job: submitted.id, now: 2)
            let deleted = try await TestClient.request("DELETE", "\(base)/v1/jobs/\(submitted.id)")
            #expect(deleted.status == 204)
            #expect(deleted.body.isEmpty)
            #expect(try await TestClient.get("\(base)/v1/jobs/\(submitted.id)").status == 404)
            #expect(try await TestClient.get("\(base)/v1/tasks/\(submitted.taskIDs[0])").status == 404)
            let again = try await TestClient.request("DELETE", "\(base)/v1/jobs/\(submitted.id)")
            #expect(again.status == 404)
            #expect(again.json?["code"]?.stringValue == "not_found")
        }
    }

    @Test func aPendingJobIsKeptWith409() async throws {
        try await withAPI { base, store in
            let created = try await TestClient.post("\(base)/v1/jobs", json: exampleJob)
            let id = try #require(created.json?["id"]?.stringValue)
            let refused = try await TestClient.request("DELETE", "\(base)/v1/jobs/\(id)")
            #expect(refused.status == 409)
            #expect(refused.headers["content-type"] == "application/problem+json")
            #expect(refused.json?["code"]?.stringValue == "job_pending")
            #expect(try await TestClient.get("\(base)/v1/jobs/\(id)").status == 200)
            #expect(try await TestClient.request("DELETE", "\(base)/v1/jobs/not-a-job").status == 404)
        }
    }
}
