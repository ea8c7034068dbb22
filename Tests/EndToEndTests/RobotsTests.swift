import Foundation
import JSON
import TestSupport
import Testing

/// robots.txt against a real local site and a running service: what an obeying job fetches, what it
/// is refused without a request, how often robots.txt itself is asked for, and the Crawl-delay's
/// spacing measured on the site's side.
@Suite struct RobotsTests {
    /// Submits `tasks` (each a JSON task object) as one job with `extra` job fields; answers its id.
    private func submit(_ service: ServiceProcess, _ tasks: [String], extra: String = "") async throws -> String {
        let response = try await TestClient.post(
            "\(service.baseURL)/v1/jobs", json: #"{"tasks":[\#(tasks.joined(separator: ","))]\#(extra)}"#)
        return try #require(response.json?["id"]?.stringValue, "submit answered \(response.status): \(response.text)")
    }

    /// The job's tasks once it completed, by URL path.
    private func finishedTasks(_ service: ServiceProcess, _ job: String) async throws -> [String: JSONValue] {
        let done = try await eventually(timeout: .seconds(180)) {
            try await TestClient.get("\(service.baseURL)/v1/jobs/\(job)").json?["state"] == "completed"
        }
        #expect(done, "the job completes")
        let page = try await TestClient.get("\(service.baseURL)/v1/jobs/\(job)/tasks?limit=1000").json
        var byPath: [String: JSONValue] = [:]
        for task in page?["tasks"]?.arrayValue ?? [] {
            guard let url = task.at("request.url")?.stringValue, let path = URL(string: url)?.path else { continue }
            byPath[(task.at("request.method")?.stringValue ?? "GET") + " " + path] = task
        }
        return byPath
    }

    @Test func anObeyingJobFetchesWhatRobotsAllowsAndNothingElse() async throws {
        let site = try RobotsSite(robots: [
            .init(
                """
                User-agent: otherbot
                Disallow: /

                User-agent: FetchQ
                Disallow: /private
                Allow: /private/open$
                Disallow: /*.pdf$
                """)
        ])
        defer { Task { await site.stop() } }
        try await withRunningService(arguments: ["--processes", "2", "--concurrency", "8"]) { service, _ in
            var tasks = (1...40).map { #"{"url":"\#(site.baseURL)/page/\#($0)"}"# }
            tasks += [
                #"{"url":"\#(site.baseURL)/private/secret"}"#, #"{"url":"\#(site.baseURL)/private/open"}"#,
                #"{"url":"\#(site.baseURL)/private/open/more"}"#, #"{"url":"\#(site.baseURL)/doc.pdf"}"#,
                #"{"url":"\#(site.baseURL)/doc.pdf.html"}"#,
                #"{"url":"\#(site.baseURL)/private/form","method":"POST"}"#,
            ]
            let job = try await submit(service, tasks, extra: #","robots_txt":"obey""#)
            let finished = try await finishedTasks(service, job)
            for index in 1...40 { #expect(finished["GET /page/\(index)"]?["state"] == "succeeded") }
            #expect(finished["GET /private/open"]?["state"] == "succeeded", "Allow wins with the longer match")
            #expect(finished["GET /doc.pdf.html"]?["state"] == "succeeded", "$ anchors at the end")
            #expect(finished["POST /private/form"]?["state"] == "succeeded", "other methods are never blocked")
            for path in ["/private/secret", "/private/open/more", "/doc.pdf"] {
                let task = finished["GET \(path)"]
                #expect(task?["state"] == "failed", "\(path)")
                #expect(task?.at("outcome.error") == "robots_disallowed", "\(path)")
                #expect(task?["failure_reason"] == "not_retryable", "\(path)")
                #expect(site.requests(path) == 0, "no request reached \(path)")
            }
            #expect(site.requests("/private/form") == 1)
            #expect(site.requests("/robots.txt") == 1, "one robots.txt request for 46 tasks over two workers")
            #expect(site.robotsUserAgents.allSatisfy { $0.hasPrefix("fetchq/") })
            let hosts = try await TestClient.get("\(service.baseURL)/v1/hosts").json?["hosts"]?.arrayValue ?? []
            let robots = hosts.first { $0["host"]?.stringValue?.hasPrefix("127.0.0.1:") == true }?["robots"]
            #expect(robots?["state"] == "rules")
            #expect(robots?["fetched_at"]?.stringValue != nil)
            let metrics = try await TestClient.get("\(service.baseURL)/metrics").text
            #expect(metrics.contains(#"fetchq_robots_refused_tasks_total{reason="disallowed"} 3"#))
            #expect(metrics.contains(#"fetchq_robots_fetches_total{result="rules"} 1"#))
        }
    }

    @Test func aJobThatIgnoresRobotsFetchesEverythingAndNeverAsks() async throws {
        let site = try RobotsSite(robots: [.init("User-agent: *\nDisallow: /\n")])
        defer { Task { await site.stop() } }
        try await withRunningService { service, _ in
            let job = try await submit(service, [#"{"url":"\#(site.baseURL)/a"}"#, #"{"url":"\#(site.baseURL)/b"}"#])
            let finished = try await finishedTasks(service, job)
            #expect(finished.values.allSatisfy { $0["state"] == "succeeded" })
            #expect(site.requests("/robots.txt") == 0)
            #expect(try await TestClient.get("\(service.baseURL)/v1/jobs/\(job)").json?["robots_txt"] == "ignore")
        }
    }

    @Test func theServiceDefaultObeysAndAMissingRobotsTxtAllowsEverything() async throws {
        let site = try RobotsSite(robots: [.init(status: 404, "not here")])
        defer { Task { await site.stop() } }
        try await withRunningService(arguments: ["--robots-txt", "obey"]) { service, _ in
            let job = try await submit(service, [#"{"url":"\#(site.baseURL)/a"}"#, #"{"url":"\#(site.baseURL)/b"}"#])
            let finished = try await finishedTasks(service, job)
            #expect(finished.values.allSatisfy { $0["state"] == "succeeded" })
            #expect(site.requests("/robots.txt") == 1)
            #expect(try await TestClient.get("\(service.baseURL)/v1/jobs/\(job)").json?["robots_txt"] == "obey")
            let hosts = try await TestClient.get("\(service.baseURL)/v1/hosts").json?["hosts"]?.arrayValue ?? []
            #expect(hosts.first?["robots"]?["state"] == "allowed")
        }
    }

    @Test func aFailingRobotsTxtHoldsTheTasksWithoutAnAttemptUntilItRecovers() async throws {
        let site = try RobotsSite(robots: [
            .init(status: 503, "busy"), .init(status: 503, "busy"), .init("User-agent: *\nDisallow: /no\n"),
        ])
        defer { Task { await site.stop() } }
        try await withRunningService { service, _ in
            let job = try await submit(
                service, [#"{"url":"\#(site.baseURL)/yes"}"#, #"{"url":"\#(site.baseURL)/no"}"#],
                extra: #","robots_txt":"obey","max_attempts":1"#)
            let finished = try await finishedTasks(service, job)
            #expect(finished["GET /yes"]?["state"] == "succeeded", "no attempt was spent while it waited")
            #expect(finished["GET /yes"]?["attempts"] == 1)
            #expect(finished["GET /no"]?.at("outcome.error") == "robots_disallowed")
            #expect(site.requests("/robots.txt") == 3)
            #expect(site.requests("/no") == 0)
        }
    }

    @Test func aRobotsTxtUnavailableForTooLongFailsItsTasks() async throws {
        let site = try RobotsSite(robots: [.init(status: 500, "broken")])
        defer { Task { await site.stop() } }
        try await withRunningService(arguments: ["--robots-unavailable-ms", "3000"]) { service, _ in
            let job = try await submit(service, [#"{"url":"\#(site.baseURL)/a"}"#], extra: #","robots_txt":"obey""#)
            let finished = try await finishedTasks(service, job)
            #expect(finished["GET /a"]?.at("outcome.error") == "robots_unavailable")
            #expect(finished["GET /a"]?["failure_reason"] == "not_retryable")
            #expect(site.requests("/a") == 0)
            #expect(site.requests("/robots.txt") >= 2, "fetched again before giving up")
        }
    }

    @Test func aCrawlDelaySpacesTheRequestsTheSiteSees() async throws {
        let site = try RobotsSite(robots: [.init("User-agent: *\nCrawl-delay: 2\n")])
        defer { Task { await site.stop() } }
        try await withRunningService(arguments: ["--per-host-concurrency", "8", "--processes", "2"]) { service, _ in
            let tasks = (1...4).map { #"{"url":"\#(site.baseURL)/p/\#($0)"}"# }
            let job = try await submit(service, tasks, extra: #","robots_txt":"obey""#)
            let finished = try await finishedTasks(service, job)
            #expect(finished.values.allSatisfy { $0["state"] == "succeeded" })
            let arrivals = site.pageArrivals
            #expect(arrivals.count == 4)
            for (earlier, later) in zip(arrivals, arrivals.dropFirst()) {
                // Spaced when the supervisor sends them; the way to the site adds its own jitter.
                #expect(later - earlier >= .milliseconds(1_500), "requests start the Crawl-delay apart")
            }
            let hosts = try await TestClient.get("\(service.baseURL)/v1/hosts").json?["hosts"]?.arrayValue ?? []
            #expect(hosts.first?["robots"]?["crawl_delay_ms"] == 2_000)
        }
    }

    @Test func anUnknownRobotsValueIsRefusedNamingTheField() async throws {
        try await withRunningService { service, _ in
            let response = try await TestClient.post(
                "\(service.baseURL)/v1/jobs", json: #"{"tasks":[{"url":"http://127.0.0.1:9/a"}],"robots_txt":"maybe"}"#)
            #expect(response.status == 422)
            #expect(response.headers["content-type"] == "application/problem+json")
            #expect(response.json?["field"] == "robots_txt")
            #expect(try await TestClient.get("\(service.baseURL)/v1/jobs").json?["jobs"]?.arrayValue?.isEmpty == true)
        }
    }
}
