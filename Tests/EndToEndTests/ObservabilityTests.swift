import Foundation
import JSON
import TestSupport
import Testing

/// Seeing inside a running service: the job listing, long polls, why a task waits, the hosts,
/// and the metrics, against a real `fetchq serve` and real target servers.
@Suite(.serialized) struct ObservabilityTests {
    /// Submits tasks with these URLs (and extra task fields); answers the job id and task ids.
    private func submit(_ base: String, _ tasks: [String]) async throws -> (job: String, tasks: [String]) {
        let response = try await TestClient.post(
            "\(base)/v1/jobs", json: #"{"tasks":[\#(tasks.joined(separator: ","))]}"#)
        let json = try #require(response.json, "submit answered \(response.status): \(response.text)")
        let job = try #require(json["id"]?.stringValue, "\(response.text)")
        return (job, json["task_ids"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    private func ids(_ response: TestResponse, _ key: String) -> [String] {
        response.json?[key]?.arrayValue?.compactMap { $0["id"]?.stringValue ?? $0["host"]?.stringValue } ?? []
    }

    @Test func jobsAreListedLongPolledAndQueuedTasksSayWhyTheyWait() async throws {
        let target = try TargetServer()
        let paused = try TargetServer()
        defer {
            Task {
                await target.stop()
                await paused.stop()
            }
        }
        try await withRunningService(arguments: ["--processes", "1", "--per-host-concurrency", "2"]) { service, _ in
            let api = service.baseURL
            // A long poll answers soon after the job completes, well before its wait is over (the
            // first task starts the service's worker, which takes seconds under ThreadSanitizer).
            let quick = try await submit(api, [#"{"url":"\#(target.baseURL)/slow/300"}"#])
            let polled = ContinuousClock.now
            let done = try await TestClient.get("\(api)/v1/jobs/\(quick.job)?wait=60")
            #expect(done.json?["state"]?.stringValue == "completed", "\(done.text)")
            #expect(ContinuousClock.now - polled < .seconds(30))

            // Four slow tasks to a host that takes two at a time, and one delayed for a minute. Each
            // takes 40 s, so that the two waiting stay waiting while a slow machine looks.
            let slow = (0..<4).map { #"{"url":"\#(target.baseURL)/slow/40000?n=\#($0)","timeout_ms":120000}"# }
            let busy = try await submit(api, slow + [#"{"url":"\#(target.baseURL)/ok/later","delay_ms":60000}"#])
            // A long poll on a job that does not complete answers after its wait, as it is then.
            let started = ContinuousClock.now
            let waited = try await TestClient.get("\(api)/v1/jobs/\(busy.job)?wait=1")
            let elapsed = ContinuousClock.now - started
            #expect(waited.status == 200 && waited.json?["state"]?.stringValue == "pending", "\(waited.text)")
            #expect(elapsed >= .seconds(1) && elapsed < .seconds(4), "answered after \(elapsed)")

            let delayed = try await TestClient.get("\(api)/v1/tasks/\(busy.tasks[4])").json
            #expect(delayed?["waiting_for"]?.stringValue == "due_time")
            #expect(delayed?["waiting_until"] == delayed?["next_attempt_at"])
            let reasons = try await eventually(timeout: .seconds(30)) {
                var reasons: [String] = []
                for id in busy.tasks.prefix(4) {
                    let task = try await TestClient.get("\(api)/v1/tasks/\(id)").json
                    reasons.append(task?["waiting_for"]?.stringValue ?? task?["state"]?.stringValue ?? "?")
                }
                return reasons.filter { $0 == "host_limit" }.count == 2 && reasons.filter { $0 == "running" }.count == 2
            }
            #expect(reasons, "two tasks run and two wait for the host's slots")
            let hosts = try await TestClient.get("\(api)/v1/hosts")
            let busiest = hosts.json?["hosts"]?.arrayValue?.first
            #expect(busiest?["host"]?.stringValue == "127.0.0.1:\(target.port)", "\(hosts.text)")
            #expect(busiest?["in_flight"]?.intValue == 2 && busiest?["limit"]?.intValue == 2)
            #expect(busiest?["queued_due"]?.intValue == 2)
            #expect(busiest?.at("recent.succeeded")?.intValue == 1)

            // A 429 with Retry-After pauses its host: a task for it then says so, with the time.
            let limited = try await submit(api, [#"{"url":"\#(paused.baseURL)/ratelimit/k/1/30"}"#])
            let attempted = try await eventually(timeout: .seconds(10)) {
                // Back in the queue after its first attempt (`attempts` counts from the claim on).
                let task = try await TestClient.get("\(api)/v1/tasks/\(limited.tasks[0])").json
                return task?["attempts"]?.intValue == 1 && task?["state"]?.stringValue == "queued"
            }
            #expect(attempted)
            let behind = try await submit(api, [#"{"url":"\#(paused.baseURL)/ok/behind"}"#])
            var task: TestResponse?
            let saysPaused = try await eventually(timeout: .seconds(5)) {
                task = try await TestClient.get("\(api)/v1/tasks/\(behind.tasks[0])")
                return task?.json?["waiting_for"]?.stringValue == "host_paused"
            }
            #expect(saysPaused, "\(task?.text ?? "")")
            #expect(task?.json?["waiting_until"]?.stringValue != nil)
            let hostsPage = try await TestClient.get("\(api)/v1/hosts?limit=10")
            let pausedHost = hostsPage.json?["hosts"]?.arrayValue?.first {
                $0["host"]?.stringValue == "127.0.0.1:\(paused.port)"
            }
            #expect(pausedHost?["paused_until"]?.stringValue != nil, "\(hostsPage.text)")
            #expect(pausedHost?["last_status"]?.intValue == 429, "\(hostsPage.text)")

            // Newest first, filtered by state, a page at a time.
            let all = ids(try await TestClient.get("\(api)/v1/jobs"), "jobs")
            #expect(all == [behind.job, limited.job, busy.job, quick.job])
            #expect(ids(try await TestClient.get("\(api)/v1/jobs?state=completed"), "jobs") == [quick.job])
            let first = try await TestClient.get("\(api)/v1/jobs?state=pending&limit=2")
            #expect(ids(first, "jobs") == [behind.job, limited.job])
            let cursor = try #require(first.json?["next_cursor"]?.stringValue)
            let second = try await TestClient.get("\(api)/v1/jobs?state=pending&limit=2&cursor=\(cursor)")
            #expect(ids(second, "jobs") == [busy.job] && second.json?["next_cursor"] == .null)

            // Bad input names its field.
            for (query, field) in [
                ("jobs?state=running", "state"), ("jobs?limit=0", "limit"), ("hosts?cursor=zz", "cursor"),
            ] {
                let refused = try await TestClient.get("\(api)/v1/\(query)")
                #expect(
                    refused.status == 422 && refused.json?["field"]?.stringValue == field, "\(query): \(refused.text)")
            }
            for wait in ["61", "-1", "soon"] {
                let refused = try await TestClient.get("\(api)/v1/jobs/\(busy.job)?wait=\(wait)")
                #expect(
                    refused.status == 422 && refused.json?["field"]?.stringValue == "wait", "\(wait): \(refused.text)")
            }
        }
    }

    @Test func metricsCountAJobOf150SuccessesAnd50NotFounds() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        let token = [("Authorization", "Bearer observe-token")]
        try await withRunningService(arguments: [
            "--processes", "2", "--per-host-concurrency", "64", "--api-token", "observe-token",
        ]) {
            service, _ in
            let api = service.baseURL
            let refused = try await TestClient.get("\(api)/metrics")
            #expect(refused.status == 401, "the metrics need the token too")
            let tasks =
                (0..<150).map { #"{"url":"\#(target.baseURL)/ok/\#($0)"}"# }
                + (0..<50).map { #"{"url":"\#(target.baseURL)/status/404?n=\#($0)"}"# }
            let submitted = try await TestClient.request(
                "POST", "\(api)/v1/jobs", json: #"{"tasks":[\#(tasks.joined(separator: ","))]}"#, headers: token)
            let job = try #require(submitted.json?["id"]?.stringValue, "\(submitted.text)")
            var state: String?
            for _ in 0..<6 where state != "completed" {
                state = try await TestClient.request("GET", "\(api)/v1/jobs/\(job)?wait=20", headers: token).json?[
                    "state"]?.stringValue
            }
            #expect(state == "completed")

            let scraped = try await TestClient.request("GET", "\(api)/metrics", headers: token)
            #expect(scraped.status == 200)
            let samples = try await MetricsParser.parse(scraped.text)
            #expect(samples[#"fetchq_attempts_total{result="success"}"#] == 150)
            #expect(samples[#"fetchq_attempts_total{result="failure"}"#] == 50)
            #expect(samples[#"fetchq_tasks_finished_total{state="succeeded"}"#] == 150)
            #expect(samples[#"fetchq_tasks_finished_total{state="failed"}"#] == 50)
            #expect(samples[#"fetchq_tasks{state="succeeded"}"#] == 150)
            #expect(samples[#"fetchq_tasks{state="failed"}"#] == 50)
            let attempts = ["2xx", "3xx", "4xx", "5xx", "error"].compactMap {
                samples[#"fetchq_fetch_duration_seconds_count{status_class="\#($0)"}"#]
            }
            #expect(attempts.reduce(0, +) == 200, "every attempt is in the histogram")
            #expect(samples[#"fetchq_fetch_duration_seconds_count{status_class="4xx"}"#] == 50)
            #expect(samples["fetchq_queue_wait_seconds_count{}"] == 200)
            #expect(samples["fetchq_workers_live{}"] == 2)
            #expect((samples["fetchq_store_write_seconds_count{}"] ?? 0) > 0)
            #expect(samples[#"fetchq_http_requests_total{route="/v1/jobs",status="201"}"#] == 1)
            #expect(samples[#"fetchq_http_requests_total{route="/metrics",status="401"}"#] == 1)
            // No label carries an id, a URL or a host.
            let labels = samples.keys.joined(separator: "\n")
            #expect(!labels.contains(job) && !labels.contains("127.0.0.1"), "\(labels)")
        }
    }

    @Test func withMetricsOffNothingIsRecordedAndJobsStillRun() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService(arguments: ["--metrics", "off"]) { service, _ in
            let api = service.baseURL
            let tasks = (0..<10).map { #"{"url":"\#(target.baseURL)/ok/\#($0)"}"# }
            let submitted = try await TestClient.request(
                "POST", "\(api)/v1/jobs", json: #"{"tasks":[\#(tasks.joined(separator: ","))]}"#)
            let job = try #require(submitted.json?["id"]?.stringValue, "\(submitted.text)")
            var state: String?
            for _ in 0..<6 where state != "completed" {
                state = try await TestClient.get("\(api)/v1/jobs/\(job)?wait=20").json?["state"]?.stringValue
            }
            #expect(state == "completed")
            let scraped = try await TestClient.get("\(api)/metrics")
            #expect(scraped.status == 200)
            #expect(scraped.text.isEmpty, "\(scraped.text)")
        }
    }
}
