import Foundation
import JSON
import Spawn
import TestSupport
import Testing

/// The web dashboard: its files and their policy over HTTP, the totals it reads, and the page
/// itself in a real browser (headless Chromium through Selenium, in a loopback-only namespace).
@Suite struct DashboardTests {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func thePageIsServedWithoutATokenUnderAStrictPolicyWhileTheAPIStillNeedsOne() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        let token = [("Authorization", "Bearer dash-token")]
        try await withRunningService(arguments: ["--processes", "1", "--api-token", "dash-token"]) { service, _ in
            let api = service.baseURL
            for (path, type) in [
                ("/", "text/html"), ("/dashboard.css", "text/css"), ("/dashboard.js", "text/javascript"),
            ] {
                let response = try await TestClient.get(api + path)
                let policy = response.headers["content-security-policy"] ?? ""
                #expect(response.status == 200, "\(path)")
                #expect(response.headers["content-type"]?.hasPrefix(type) == true, "\(path): \(response.headers)")
                #expect(policy.contains("default-src 'self'") && !policy.contains("unsafe"), "\(path): \(policy)")
                #expect(response.headers["x-content-type-options"] == "nosniff")
            }
            // The page's only script is its file: nothing inline for the policy to refuse.
            let page = try await TestClient.get(api + "/").text
            #expect(page.components(separatedBy: "<script").count == 2)
            #expect(page.contains(#"<script src="/dashboard.js" defer></script>"#))

            #expect(try await TestClient.get("\(api)/v1/stats").status == 401, "the totals need the token")
            let tasks = [#"{"url":"\#(target.baseURL)/ok/a"}"#, #"{"url":"\#(target.baseURL)/status/404"}"#]
            let submitted = try await TestClient.request(
                "POST", "\(api)/v1/jobs", json: #"{"tasks":[\#(tasks.joined(separator: ","))],"max_attempts":1}"#,
                headers: token)
            let job = try #require(submitted.json?["id"]?.stringValue, "\(submitted.text)")
            let taskIDs = submitted.json?["task_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
            var state: String?
            for _ in 0..<6 where state != "completed" {
                state = try await TestClient.request("GET", "\(api)/v1/jobs/\(job)?wait=20", headers: token).json?[
                    "state"]?.stringValue
            }
            #expect(state == "completed")
            let stats = try await TestClient.request("GET", "\(api)/v1/stats", headers: token)
            #expect(stats.json?.at("tasks.succeeded")?.intValue == 1, "\(stats.text)")
            #expect(stats.json?.at("tasks.failed")?.intValue == 1 && stats.json?.at("tasks.queued")?.intValue == 0)
            #expect(stats.json?["workers_live"]?.intValue == 1 && stats.json?["deliveries_pending"]?.intValue == 0)

            // A stored body opened on the dashboard's origin runs nothing there.
            let body = try await TestClient.request("GET", "\(api)/v1/tasks/\(taskIDs[0])/body", headers: token)
            #expect(body.status == 200 && body.text == "ok a")
            #expect(body.headers["content-security-policy"]?.hasPrefix("sandbox") == true, "\(body.headers)")
        }
    }

    @Test func theScriptBuildsThePageFromTextNeverFromHTML() throws {
        let script = try String(contentsOf: Self.root.appending(path: "dashboard/dashboard.js"), encoding: .utf8)
        for sink in [".innerHTML", ".outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
            #expect(!script.contains(sink), "dashboard.js uses \(sink)")
        }
    }

    /// `Tests/Browser/dashboard_browser.py` does what a person would (its checks are listed there),
    /// against its own `fetchq serve` and target servers: they must live in the browser's namespace,
    /// whose loopback is its own.
    @Test func theDashboardWorksInARealBrowser() async throws {
        let python = Self.root.appending(path: ".build/test-venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"),
            FileManager.default.isExecutableFile(atPath: python)
        else {
            let missing = "no chromedriver or test venv: run `scripts/install-deps.sh chromium chromium-driver`"
            Issue.record("\(missing) and `scripts/test-venv.sh` (make test does)")
            return
        }
        try await withTemporaryDirectory { directory in
            let screenshot = directory.appending(path: "dashboard.png")
            var environment = ProcessInfo.processInfo.environment
            environment["SE_OFFLINE"] = "true"
            // A PID namespace too, whose first process is the script: when it ends, so does all it started.
            let browser = try ChildProcess.spawn(
                .init(
                    executable: "unshare",
                    arguments: [
                        "-rn", "--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c",
                        #"ip link set lo up && exec "$0" "$@""#, python,
                        Self.root.appending(path: "Tests/Browser/dashboard_browser.py").path, try FetchqBinary.path,
                        screenshot.path,
                    ], environment: environment, standardInput: .pipe, standardOutput: .pipe,
                    standardError: .standardOutput, newProcessGroup: true))
            let output = LogBuffer()
            if let pipe = browser.standardOutput { output.collect(from: pipe) }
            let ended = await eventually(timeout: .seconds(600), every: .milliseconds(200)) { !browser.isRunning }
            if !ended {
                browser.signal(SIGKILL)
                _ = await browser.exited()
            }
            #expect(ended, "the browser check did not finish in 10 minutes:\n\(output.contents)")
            #expect(browser.termination == .exited(0), "\(output.contents)")
            #expect(output.contents.contains("dashboard: all checks passed"), "\(output.contents)")
            let png = (try? Data(contentsOf: screenshot)) ?? Data()
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "no PNG screenshot")
        }
    }
}
