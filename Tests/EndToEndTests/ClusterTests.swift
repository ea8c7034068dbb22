import Foundation
import JSON
import TestSupport
import Testing

/// Several `fetchq serve` nodes on one real PostgreSQL server: they share one queue, the per-host
/// limit holds for all of them together, a node's death costs only its TTL, and a database outage
/// loses nothing.
@Suite(.serialized) final class ClusterTests {
    let server: PostgresServer
    /// How long a node may miss heartbeats here (short, so that a dead node's tasks come back soon).
    static let ttlMillis = 3_000

    init() throws { server = try PostgresServer.start() }

    deinit { server.stop() }

    /// A node on `url`; every node of a test gets the same webhook secret.
    /// `timeoutMillis` is the node's `--database-timeout-ms`: long, for a loaded machine, unless a
    /// test wants an outage to show soon.
    private func node(_ url: String, _ arguments: [String] = [], timeoutMillis: Int = 30_000) async throws
        -> ServiceProcess
    {
        try await ServiceProcess.start(
            database: URL(fileURLWithPath: "/nonexistent/unused.db"),
            arguments: [
                "--database", url, "--node-lease-ttl-ms", "\(Self.ttlMillis)", "--webhook-secret", testSecret,
                "--webhook-retry-schedule-ms", "100,100", "--database-timeout-ms", "\(timeoutMillis)",
            ] + arguments)
    }

    private func count(_ url: String, _ condition: String) throws -> Int {
        Int(try server.query(url, "SELECT count(*) FROM tasks WHERE \(condition)").first ?? "") ?? -1
    }

    private func nodes(_ service: ServiceProcess) async throws -> [JSONValue] {
        guard case .array(let nodes)? = try await TestClient.get("\(service.baseURL)/v1/nodes").json?["nodes"] else {
            return []
        }
        return nodes
    }

    @Test func aKilledNodesTasksAreFinishedByTheOtherWithinItsTTL() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        let url = try server.createDatabase()
        let options = ["--processes", "1", "--concurrency", "16", "--per-host-concurrency", "64"]
        let first = try await node(url, options)
        defer { Task { await first.terminate() } }
        let second = try await node(url, options)
        defer { Task { await second.terminate() } }
        let listed = try await eventually { try await self.nodes(first).count == 2 }
        #expect(listed, "GET /v1/nodes lists both nodes")

        let tasks = (0..<5_000).map { "\(target.baseURL)/work/\($0)/20" }
        let (jobID, _) = try await submitJob(first, tasks: tasks, extra: #","max_attempts":3"#)
        let victimID = try #require(
            try await nodes(second).first { $0["host"]?.stringValue?.hasSuffix("pid \(second.pid)") == true }?["id"]?
                .stringValue)
        let bothBusy = try await eventually(timeout: .seconds(120)) {
            try self.count(url, "state = 'running' AND node_id = '\(victimID)'") > 0
                && (try self.count(url, "state = 'succeeded'")) > 500
        }
        #expect(bothBusy, "both nodes run tasks; log:\n\(second.log)")
        second.signal(SIGKILL)
        let killedAt = ContinuousClock.now
        _ = await second.waitForExit()

        let rescued = try await eventually(timeout: .seconds(60)) {
            try self.count(url, "state = 'running' AND node_id = '\(victimID)'") == 0
        }
        let rescueTime = ContinuousClock.now - killedAt
        #expect(rescued)
        // The TTL plus a heartbeat, with room for a loaded machine.
        #expect(rescueTime < .milliseconds(Self.ttlMillis + Self.ttlMillis / 3) + .seconds(10), "\(rescueTime)")
        let completed = try await eventually(timeout: .seconds(300)) {
            try await TestClient.get("\(first.baseURL)/v1/jobs/\(jobID)").json?["state"]?.stringValue == "completed"
        }
        #expect(completed, "log:\n\(first.log)")
        #expect(try count(url, "state = 'succeeded'") == 5_000)
        #expect(try count(url, "state <> 'succeeded'") == 0)
        #expect(try count(url, "attempts > max_attempts") == 0)
        let job = try await TestClient.get("\(first.baseURL)/v1/jobs/\(jobID)").json
        #expect(job?.at("counts.succeeded")?.intValue == 5_000)
        #expect(first.log.contains("rescued the tasks of dead nodes"))
        // Every task was fetched at least once; a rescued one may have been fetched twice.
        #expect((0..<5_000).allSatisfy { target.requests("/work/\($0)/20") >= 1 })
        let listedAfter = try await eventually { try await self.nodes(first).count == 1 }
        #expect(listedAfter, "the dead node leaves the list")
    }

    @Test func thePerHostLimitHoldsForAllNodesTogether() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        let url = try server.createDatabase()
        let options = ["--processes", "2", "--concurrency", "8", "--per-host-concurrency", "4"]
        let first = try await node(url, options)
        defer { Task { await first.terminate() } }
        let second = try await node(url, options)
        defer { Task { await second.terminate() } }
        let tasks = (0..<120).map { "\(target.baseURL)/work/\($0)/100" }
        let (jobID, _) = try await submitJob(second, tasks: tasks, extra: "")
        let completed = try await eventually(timeout: .seconds(180)) {
            try await jobCount(first, jobID, "counts.succeeded") == 120
        }
        #expect(completed)
        #expect(target.maxInFlight <= 4, "the target saw \(target.maxInFlight) requests at once")
        #expect(target.maxInFlight >= 2)
    }

    @Test func robotsTxtIsFetchedAtMostOncePerOriginPerNode() async throws {
        let site = try RobotsSite(robots: [.init("User-agent: *\nDisallow: /private\n")])
        defer { Task { await site.stop() } }
        let url = try server.createDatabase()
        let options = ["--processes", "2", "--concurrency", "8", "--robots-txt", "obey"]
        let first = try await node(url, options)
        defer { Task { await first.terminate() } }
        let second = try await node(url, options)
        defer { Task { await second.terminate() } }
        let tasks = (0..<80).map { "\(site.baseURL)/page/\($0)" } + ["\(site.baseURL)/private/x"]
        let (jobID, _) = try await submitJob(second, tasks: tasks, extra: "")
        let completed = try await eventually(timeout: .seconds(180)) {
            let succeeded = try await jobCount(first, jobID, "counts.succeeded")
            let failed = try await jobCount(first, jobID, "counts.failed")
            return succeeded == 80 && failed == 1
        }
        #expect(completed)
        #expect((1...2).contains(site.requests("/robots.txt")), "\(site.requests("/robots.txt")) robots.txt requests")
        #expect(site.requests("/private/x") == 0)
        #expect(try count(url, "error = 'robots_disallowed'") == 1)
    }

    @Test func anAdaptedHostLimitHoldsForAllNodesTogether() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        let url = try server.createDatabase()
        let options = ["--processes", "1", "--concurrency", "16", "--per-host-concurrency", "16"]
        let first = try await node(url, options)
        defer { Task { await first.terminate() } }
        let second = try await node(url, options)
        defer { Task { await second.terminate() } }
        let tasks = (0..<150).map { "\(target.baseURL)/capacity/3/40/\($0)" }
        let (jobID, _) = try await submitJob(
            second, tasks: tasks, extra: #","max_attempts":100,"retry_base_ms":20,"retry_max_ms":200"#)
        let completed = try await eventually(timeout: .seconds(300)) {
            try await jobCount(first, jobID, "counts.succeeded") == 150
        }
        #expect(completed)
        // Both nodes' claims used the limit recorded in the database.
        let recorded = try server.query(url, "SELECT current_limit FROM host_limits")
        #expect(recorded.count == 1, "one adapted limit for the one host: \(recorded)")
        #expect(target.overloadedAnswers < 150, "\(target.overloadedAnswers) answers of 503 for 150 tasks")
        print("two nodes, a host of capacity 3 behind a ceiling of 16: \(target.overloadedAnswers) answers of 503")
    }

    @Test func aHostsPauseHoldsOnEveryNode() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        let url = try server.createDatabase()
        let options = ["--processes", "1", "--concurrency", "8", "--per-host-concurrency", "2"]
        let first = try await node(url, options)
        defer { Task { await first.terminate() } }
        let second = try await node(url, options)
        defer { Task { await second.terminate() } }
        // One task first, alone, so that the host's first request is surely the one answered 429
        // (asking for 3 s); once its attempt is recorded, the pause is too (the same transaction).
        let (limitedJob, _) = try await submitJob(
            first, tasks: ["\(target.baseURL)/ratelimit/pause/1/3"], extra: #","max_attempts":3"#)
        let limitedAt = try await eventually(timeout: .seconds(120)) {
            try self.count(url, "seq IN (SELECT task_seq FROM task_attempts WHERE status_code = 429)") == 1
        }
        #expect(limitedAt)
        let answered = try #require(
            Int64(try server.query(url, "SELECT finished_at FROM task_attempts WHERE status_code = 429").first ?? ""))
        // More tasks for the same host, through the other node: neither node may start one before
        // the pause ends.
        let tasks = (0..<40).map { "\(target.baseURL)/ok/after-pause-\($0)" }
        let (jobID, _) = try await submitJob(second, tasks: tasks, extra: "")
        let completed = try await eventually(timeout: .seconds(120)) {
            let others = try await jobCount(first, jobID, "counts.succeeded")
            let limited = try await jobCount(first, limitedJob, "counts.succeeded")
            return others == 40 && limited == 1
        }
        #expect(completed)
        let early = try count(url, "url LIKE '%after-pause%' AND started_at < \(answered + 2_900)")
        #expect(early == 0, "\(early) tasks started during the host's pause")
    }

    /// A pause made through one node holds on the other: it claims the other host's tasks of the
    /// same job, never the paused host's, until the pause is ended through the first node.
    @Test func aHostPausedThroughOneNodeHoldsOnTheOther() async throws {
        let held = try TargetServer()
        defer { Task { await held.stop() } }
        let other = try TargetServer()
        defer { Task { await other.stop() } }
        let url = try server.createDatabase()
        let first = try await node(url, ["--processes", "1"])
        defer { Task { await first.terminate() } }
        let second = try await node(url, ["--processes", "1"])
        defer { Task { await second.terminate() } }
        let host = "127.0.0.1%3A\(held.port)"
        let pause = try await TestClient.post("\(first.baseURL)/v1/hosts/\(host)/pause", json: #"{"for_ms": 600000}"#)
        #expect(pause.status == 200)
        let tasks = (0..<5).map { "\(held.baseURL)/ok/held-\($0)" } + (0..<5).map { "\(other.baseURL)/ok/run-\($0)" }
        let (job, _) = try await submitJob(second, tasks: tasks, extra: "")
        let othersDone = try await eventually(timeout: .seconds(180)) {
            try await jobCount(second, job, "counts.succeeded") == 5
        }
        #expect(othersDone)
        #expect(held.totalRequests == 0, "no node sent the paused host anything")
        let listed = try await TestClient.get("\(second.baseURL)/v1/hosts").json?["hosts"]?.arrayValue ?? []
        #expect(
            listed.first { $0["host"]?.stringValue == "127.0.0.1:\(held.port)" }?["paused_until"]
                == pause.json?["paused_until"])
        #expect(try await TestClient.request("POST", "\(first.baseURL)/v1/hosts/\(host)/resume").status == 200)
        let finished = try await eventually(timeout: .seconds(180)) {
            try await jobCount(second, job, "counts.succeeded") == 10
        }
        #expect(finished)
    }

    @Test func aJobRunOnTwoNodesCallsBackOncePerTaskAndOnceForTheJob() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        let receiver = try await WebhookReceiver(secret: testSecret)
        defer { receiver.stop() }
        let url = try server.createDatabase()
        let options = ["--processes", "1", "--concurrency", "8", "--per-host-concurrency", "64"]
        let first = try await node(url, options)
        defer { Task { await first.terminate() } }
        let second = try await node(url, options)
        defer { Task { await second.terminate() } }
        // The same Idempotency-Key sent to both nodes at once makes one job.
        let tasks = (0..<300).map { #"{"url":"\#(target.baseURL)/work/\#($0)/10"}"# }
        let body =
            #"{"tasks":[\#(tasks.joined(separator: ","))],"callback_url":"\#(receiver.baseURL)/hook"}"#
        async let a = TestClient.request(
            "POST", "\(first.baseURL)/v1/jobs", json: body, headers: [("Idempotency-Key", "cluster-key")])
        async let b = TestClient.request(
            "POST", "\(second.baseURL)/v1/jobs", json: body, headers: [("Idempotency-Key", "cluster-key")])
        let (answerA, answerB) = try await (a, b)
        let jobID = try #require(answerA.json?["id"]?.stringValue, "\(answerA.status) \(answerA.text)")
        #expect(answerB.json?["id"]?.stringValue == jobID, "\(answerB.status) \(answerB.text)")
        #expect(Int(try server.query(url, "SELECT count(*) FROM jobs").first ?? "") == 1)

        let delivered = try await eventually(timeout: .seconds(180)) {
            try await receiver.calls().contains { $0.type == "job.finished" && $0.valid }
        }
        #expect(delivered)
        let calls = try await receiver.calls().filter(\.valid)
        let finishedTasks = Set(calls.filter { $0.type == "task.finished" }.compactMap(\.taskID))
        #expect(finishedTasks.count == 300)
        #expect(Set(calls.filter { $0.type == "job.finished" }.map(\.id)).count == 1)
    }

    @Test func aDatabaseOutageAnswers503AndLosesNoAcceptedTask() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        let url = try server.createDatabase()
        // The node's deadline is long: a server that refuses connections must be told at once,
        // not after waiting it out.
        let service = try await node(
            url, ["--processes", "1", "--concurrency", "8", "--per-host-concurrency", "64"], timeoutMillis: 60_000)
        defer { Task { await service.terminate() } }
        let tasks = (0..<400).map { "\(target.baseURL)/work/\($0)/30" }
        let (jobID, _) = try await submitJob(service, tasks: tasks, extra: #","max_attempts":5"#)
        let started = try await eventually(timeout: .seconds(60)) {
            try await jobCount(service, jobID, "counts.succeeded") > 20
        }
        #expect(started)

        try server.halt()
        // Submitted at once: answered 503 well before the 60 s deadline, and never stored.
        let asked = ContinuousClock.now
        let refused = try await TestClient.post(
            "\(service.baseURL)/v1/jobs", json: #"{"tasks":[{"url":"\#(target.baseURL)/ok/late"}]}"#)
        let took = ContinuousClock.now - asked
        #expect(refused.status == 503)
        #expect(refused.json?["code"]?.stringValue == "store_unavailable")
        #expect(refused.headers["retry-after"] != nil)
        #expect(took < .seconds(30), "a refusing server was waited for: \(took)")
        let degraded = try await eventually(timeout: .seconds(60)) {
            try await TestClient.get("\(service.baseURL)/healthz").status == 503
        }
        #expect(degraded, "log:\n\(service.log)")
        let read = try await TestClient.get("\(service.baseURL)/v1/jobs/\(jobID)")
        #expect(read.status == 503, "reads answer 503 too")
        try server.restart()

        let completed = try await eventually(timeout: .seconds(240)) {
            try await TestClient.get("\(service.baseURL)/v1/jobs/\(jobID)").json?["state"]?.stringValue == "completed"
        }
        #expect(completed, "log:\n\(service.log)")
        #expect(try count(url, "state = 'succeeded'") == 400)
        #expect(try count(url, "url LIKE '%/ok/late'") == 0, "the refused submission was not stored later")
        #expect(try await TestClient.get("\(service.baseURL)/healthz").status == 200)
    }
}
