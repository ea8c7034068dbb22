import AsyncHTTPClient
import Foundation
import JSON
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

/// Responses are stored as the server sent them and served so: an encoded body with its
/// encoding, a 304 answering the task's own conditional request as a success, the User-Agent
/// the service was told to send.
@Suite struct StoredAsSentTests {
    /// One worker process is enough here, and lighter on a machine running every test at once.
    static let oneWorker = ["--processes", "1"]

    /// `{"hello":"gzip"}`, gzipped.
    static let gzipped: [UInt8] = [
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 171, 86, 202, 72, 205, 201, 201, 87, 178, 82, 74, 175, 202, 44, 80, 170, 5,
        0, 246, 79, 5, 111, 16, 0, 0, 0,
    ]

    /// Submits `tasks` (JSON) as one job and answers the job's id once every task is final.
    static func run(_ service: ServiceProcess, tasks: String) async throws -> JSONValue {
        let submitted = try await TestClient.post("\(service.baseURL)/v1/jobs", json: #"{"tasks": \#(tasks)}"#)
        let job = try #require(submitted.json?["id"]?.stringValue, "\(submitted.text)")
        var answer: JSONValue?
        let done = try await eventually(timeout: .seconds(120)) {
            answer = try await TestClient.get("\(service.baseURL)/v1/jobs/\(job)").json
            return answer?["state"]?.stringValue == "completed"
        }
        #expect(done)
        return try await TestClient.get("\(service.baseURL)/v1/jobs/\(job)/tasks").json ?? .null
    }

    /// The body at `url`, read by a client that decodes a `Content-Encoding` or by one that does not.
    static func body(of url: String, decoding: Bool) async throws -> ([UInt8], HTTPHeaders) {
        var configuration = HTTPClient.Configuration()
        configuration.decompression = decoding ? .enabled(limit: .none) : .disabled
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "accept-encoding", value: "gzip")
            let answer = try await client.execute(request, timeout: .seconds(30))
            let body = try await answer.body.collect(upTo: 1 << 20)
            #expect(answer.status.code == 200)
            try await client.shutdown()
            return (Array(buffer: body), answer.headers)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    @Test func aGzippedBodyIsServedWithItsEncodingAndADecodingClientReadsIt() async throws {
        let response =
            Array(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: \(Self.gzipped.count)\r\n\r\n"
                    .utf8) + Self.gzipped
        let target = try await RawTCPServer(.answer(response))
        try await withRunningService(arguments: Self.oneWorker) { service, _ in
            let tasks = try await Self.run(service, tasks: #"[{"url": "\#(target.baseURL)/data.json"}]"#)
            let id = try #require(tasks["tasks"]?.arrayValue?.first?["id"]?.stringValue)
            // A client that decodes, as a browser or `curl --compressed` does, reads what was sent.
            let (decoded, headers) = try await Self.body(of: "\(service.baseURL)/v1/tasks/\(id)/body", decoding: true)
            #expect(headers.first(name: "content-type") == "application/json")
            #expect(headers.first(name: "vary") == "Accept-Encoding")
            #expect(String(decoding: decoded, as: UTF8.self) == #"{"hello":"gzip"}"#)
            // Read without decoding, the stored bytes are the gzip stream as sent, and say so.
            let (raw, rawHeaders) = try await Self.body(of: "\(service.baseURL)/v1/tasks/\(id)/body", decoding: false)
            #expect(rawHeaders.first(name: "content-encoding") == "gzip")
            #expect(raw == Self.gzipped)
            let job = try #require(tasks["tasks"]?.arrayValue?.first)
            let results = try await TestClient.get(
                "\(service.baseURL)/v1/jobs/\(job["job_id"]?.stringValue ?? "")/results")
            let line = try #require(
                results.text.split(separator: "\n").first.flatMap { try? JSONParser.parse(Array($0.utf8)) })
            #expect(line["content_encoding"] == "gzip")
        }
        await target.stop()
    }

    @Test func aNotModifiedAnsweringTheTasksOwnConditionalRequestSucceeds() async throws {
        let target = try TargetServer()
        try await withRunningService(arguments: Self.oneWorker) { service, _ in
            let tasks = try await Self.run(
                service,
                tasks: #"""
                    [{"url": "\#(target.baseURL)/etag/v1", "headers": {"If-None-Match": "\"v1\""}},
                     {"url": "\#(target.baseURL)/etag/v2", "headers": {"If-None-Match": "\"v1\""}},
                     {"url": "\#(target.baseURL)/etag/v3", "headers": {"If-None-Match": "\"v3\""}, "method": "HEAD"}]
                    """#)
            let items = tasks["tasks"]?.arrayValue ?? []
            #expect(items.count == 3)
            #expect(items.first?["state"] == "succeeded")
            #expect(items.first?.at("outcome.status_code") == .integer(304))
            #expect(items.dropFirst().first?["state"] == "succeeded")
            #expect(items.dropFirst().first?.at("outcome.status_code") == .integer(200), "changed: a full answer")
            #expect(items.last?["state"] == "succeeded")
            #expect(target.requests("/etag/v1") == 1, "a success is not retried")
        }
        await target.stop()
    }

    @Test func aNotModifiedToARequestThatAskedNoConditionIsStillAFailure() async throws {
        let target = try TargetServer()
        try await withRunningService(arguments: Self.oneWorker) { service, _ in
            let tasks = try await Self.run(service, tasks: #"[{"url": "\#(target.baseURL)/status/304"}]"#)
            let task = try #require(tasks["tasks"]?.arrayValue?.first)
            #expect(task["state"] == "failed")
            #expect(task.at("outcome.status_code") == .integer(304))
        }
        await target.stop()
    }

    @Test func theUserAgentSettingIsSentWithEveryFetchThatSetsNone() async throws {
        let target = try TargetServer()
        try await withRunningService(
            arguments: Self.oneWorker + ["--user-agent", "examplebot/2.0 (+https://example.com/bot)"]
        ) {
            service, _ in
            let tasks = try await Self.run(
                service,
                tasks: #"""
                    [{"url": "\#(target.baseURL)/echo"},
                     {"url": "\#(target.baseURL)/echo?own", "headers": {"User-Agent": "mine/1"}}]
                    """#)
            var agents: [String] = []
            for task in tasks["tasks"]?.arrayValue ?? [] {
                let id = task["id"]?.stringValue ?? ""
                let body = try await TestClient.get("\(service.baseURL)/v1/tasks/\(id)/body")
                agents.append(body.json?.at("headers.user-agent")?.stringValue ?? "none")
            }
            #expect(agents == ["examplebot/2.0 (+https://example.com/bot)", "mine/1"])
        }
        await target.stop()
    }
}
