import Robots
import Testing

@testable import Engine
@testable import Store

/// The node's robots.txt state per origin, on times the tests choose: one fetch per origin for any
/// number of tasks, the RFC's reading of each answer, the wait and the give-up for a failing one.
@Suite struct RobotsGateTests {
    private let policy = RobotsPolicy(ttlMillis: 60_000, unavailableMillis: 10_000, maxCrawlDelayMillis: 5_000)

    private func task(_ path: String, host: String = "a.test:80", method: String = "GET", seq: Int64 = 1)
        -> ClaimedTask
    {
        ClaimedTask(
            seq: seq, id: TaskID(trusted: "task-\(seq)"), jobSeq: 1, host: host,
            request: FetchRequest(url: "http://\(host)\(path)", method: method, headers: [], body: nil),
            timeoutMillis: 1_000, attempt: 1, maxAttempts: 3, retryBaseMillis: nil, retryMaxMillis: nil,
            obeysRobots: true)
    }

    private func rules(_ text: String) -> RobotsAnswer {
        .rules(RobotsTxt(parsing: Array(text.utf8)).rules(for: "fetchq"))
    }

    @Test func manyTasksOfOneOriginAskForOneFetchAndWaitForIt() {
        var gate = RobotsGate(policy: policy, userAgent: "fetchq/1.0")
        let verdicts = (1...50).map { gate.check(task("/page/\($0)", seq: Int64($0)), now: 1_000) }
        #expect(verdicts.allSatisfy { $0 == .wait(until: 1_000) })
        #expect(gate.takeFetches().map(\.origin) == ["http://a.test:80"])
        #expect(gate.hostsBeingFetched == ["a.test:80": 1])
        gate.fetched("http://a.test:80", rules("User-agent: *\nDisallow: /private\n"), now: 1_100)
        #expect(gate.hostsBeingFetched.isEmpty)
        #expect(gate.check(task("/page/1"), now: 1_200) == .send(crawlDelayMillis: nil))
        guard case .refuse(let why) = gate.check(task("/private/x"), now: 1_200) else {
            Issue.record("a disallowed path is refused")
            return
        }
        #expect(why.contains("/private/x"))
        #expect(gate.takeFetches().isEmpty)
    }

    @Test func onlyGetAndHeadOfObeyingJobsAreChecked() {
        #expect(RobotsGate.applies(to: task("/x", method: "GET")))
        #expect(RobotsGate.applies(to: task("/x", method: "HEAD")))
        #expect(!RobotsGate.applies(to: task("/x", method: "POST")))
        var ignoring = task("/x")
        ignoring.obeysRobots = false
        #expect(!RobotsGate.applies(to: ignoring))
    }

    @Test func aClientErrorMeansNoRestrictions() {
        var gate = RobotsGate(policy: policy, userAgent: "fetchq")
        _ = gate.check(task("/private"), now: 0)
        gate.fetched("http://a.test:80", .allowAll(status: 404), now: 10)
        #expect(gate.check(task("/private"), now: 20) == .send(crawlDelayMillis: nil))
        #expect(gate.byHost()["a.test:80"] == HostRobots(state: .allowed, fetchedAt: 10, crawlDelayMillis: nil))
    }

    @Test func aFailingRobotsTxtHoldsTasksBacksOffAndRecovers() {
        var gate = RobotsGate(policy: policy, userAgent: "fetchq")
        _ = gate.check(task("/a"), now: 0)
        #expect(gate.takeFetches().count == 1)
        gate.fetched("http://a.test:80", .unavailable(reason: "the server answered 503"), now: 0)
        // Fetched again after 1 s, then 2 s: the tasks wait until then, no fetch before.
        #expect(gate.check(task("/a"), now: 500) == .wait(until: 1_000))
        #expect(gate.takeFetches().isEmpty)
        #expect(gate.check(task("/a"), now: 1_000) == .wait(until: 1_000))
        #expect(gate.takeFetches().count == 1)
        gate.fetched("http://a.test:80", .unavailable(reason: "the server answered 503"), now: 1_000)
        #expect(gate.check(task("/a"), now: 1_500) == .wait(until: 3_000))
        #expect(gate.byHost()["a.test:80"]?.state == .unavailable)
        _ = gate.check(task("/a"), now: 3_000)
        gate.fetched("http://a.test:80", rules("User-agent: *\nAllow: /\n"), now: 3_000)
        #expect(gate.check(task("/a"), now: 3_001) == .send(crawlDelayMillis: nil))
    }

    @Test func aRobotsTxtUnavailableForTooLongFailsItsTasks() {
        var gate = RobotsGate(policy: policy, userAgent: "fetchq")
        _ = gate.check(task("/a"), now: 0)
        gate.fetched("http://a.test:80", .unavailable(reason: "connection refused"), now: 0)
        guard case .giveUp(let why) = gate.check(task("/a"), now: 10_000) else {
            Issue.record("past --robots-unavailable-ms the task fails")
            return
        }
        #expect(why.contains("connection refused"))
    }

    @Test func anAnswerIsKeptForItsTTLThenFetchedAgainWhileTheOldOneServes() {
        var gate = RobotsGate(policy: policy, userAgent: "fetchq")
        _ = gate.check(task("/a"), now: 0)
        _ = gate.takeFetches()
        gate.fetched("http://a.test:80", rules("User-agent: *\nDisallow: /old\n"), now: 0)
        #expect(gate.check(task("/a"), now: 59_999) == .send(crawlDelayMillis: nil))
        #expect(gate.takeFetches().isEmpty)
        #expect(gate.check(task("/a"), now: 60_000) == .wait(until: 60_000))
        #expect(gate.takeFetches().count == 1)
        // While the new fetch runs, the old rules still answer.
        #expect(gate.check(task("/a"), now: 60_001) == .send(crawlDelayMillis: nil))
        #expect(gate.check(task("/old"), now: 60_001) != .send(crawlDelayMillis: nil))
        gate.fetched("http://a.test:80", rules("User-agent: *\nDisallow: /a\n"), now: 60_100)
        #expect(gate.check(task("/old"), now: 60_200) == .send(crawlDelayMillis: nil))
    }

    @Test func aCrawlDelayIsCappedAndGivenToTheHost() {
        var gate = RobotsGate(policy: policy, userAgent: "fetchq")
        _ = gate.check(task("/a"), now: 0)
        gate.fetched("http://a.test:80", rules("User-agent: fetchq\nCrawl-delay: 60\n"), now: 0)
        #expect(gate.check(task("/a"), now: 1) == .send(crawlDelayMillis: 5_000))
        #expect(gate.crawlDelays == ["a.test:80": 5_000])
    }

    @Test func originsAreForgottenOnceTheirAnswerExpires() {
        var gate = RobotsGate(policy: policy, userAgent: "fetchq")
        for index in 0..<1_000 {
            let host = "h\(index).test:80"
            _ = gate.check(task("/", host: host), now: 0)
            gate.fetched("http://\(host)", rules("User-agent: *\nCrawl-delay: 1\n"), now: 0)
        }
        #expect(gate.entries.count == 1_000)
        gate.prune(now: 60_000)
        #expect(gate.entries.isEmpty)
        #expect(gate.crawlDelays.isEmpty)
    }
}

/// The scheduler core with obeying tasks: held back while robots.txt is fetched, refused without a
/// request when it disallows them, and spaced by its Crawl-delay.
@Suite struct SchedulerCoreRobotsTests {
    private func obeying(_ seq: Int64, path: String, method: String = "GET") -> ClaimedTask {
        ClaimedTask(
            seq: seq, id: TaskID(trusted: "task-\(seq)"), jobSeq: 1, host: "a.test:80",
            request: FetchRequest(url: "http://a.test:80\(path)", method: method, headers: [], body: nil),
            timeoutMillis: 1_000, attempt: 1, maxAttempts: 3, retryBaseMillis: nil, retryMaxMillis: nil,
            obeysRobots: true)
    }

    @Test func obeyingTasksWaitForTheFetchAndAreThenSentOrRefused() throws {
        var harness = CoreHarness(processes: 1, concurrency: 8, perHost: 8)
        _ = harness.start()
        let actions = harness.handle(
            .claimed([obeying(1, path: "/ok"), obeying(2, path: "/private"), obeying(3, path: "/p")]))
        #expect(actions.compactMap(\.dispatch).isEmpty, "nothing is sent before robots.txt is known")
        let fetches = actions.compactMap { if case .fetchRobots(let origin, _) = $0 { origin } else { nil } }
        #expect(fetches == ["http://a.test:80"])
        let pass = harness.pass()
        let held = pass.compactMap { if case .holdBack(let leases, _, _) = $0 { leases.map(\.seq) } else { nil } }
        #expect(held.flatMap { $0 }.sorted() == [1, 2, 3])
        #expect(pass.recordAndClaim?.hosts.remaining["a.test:80"] == 0, "its host is held while the fetch runs")
        _ = harness.handle(
            .robotsFetched(
                origin: "http://a.test:80",
                .rules(RobotsTxt(parsing: Array("User-agent: *\nDisallow: /private\n".utf8)).rules(for: "fetchq"))))
        let again = harness.handle(
            .claimed([obeying(1, path: "/ok"), obeying(2, path: "/private"), obeying(4, path: "/x", method: "POST")]))
        #expect(again.compactMap(\.dispatch).flatMap(\.tasks).map(\.rawValue).sorted() == ["task-1", "task-4"])
        let recorded = try #require(harness.pass().recordAndClaim)
        let refused = try #require(recorded.results.first)
        #expect(refused.seq == 2)
        #expect(refused.disposition == .failed(.notRetryable))
        #expect(refused.outcome.error == "robots_disallowed")
        #expect(refused.outcome.statusCode == nil)
    }

    @Test func aCrawlDelaySpacesTheHostsRequests() {
        var harness = CoreHarness(processes: 1, concurrency: 8, perHost: 8)
        _ = harness.start()
        _ = harness.claim([obeying(1, path: "/a")])
        _ = harness.pass()
        _ = harness.handle(
            .robotsFetched(
                origin: "http://a.test:80",
                .rules(RobotsTxt(parsing: Array("User-agent: *\nCrawl-delay: 2\n".utf8)).rules(for: "fetchq"))))
        _ = harness.handle(.wake)
        #expect(harness.pass().recordAndClaim?.hosts.remaining["a.test:80"] == 1, "one at a time")
        _ = harness.claim([obeying(1, path: "/a")])
        _ = harness.handle(.wake)
        #expect(harness.pass().recordAndClaim?.hosts.remaining["a.test:80"] == 0)
        _ = harness.finish(1, on: harness.worker(0))
        harness.clock.advance(by: .milliseconds(1_999))
        _ = harness.handle(.tick)
        #expect(harness.pass().recordAndClaim?.hosts.remaining["a.test:80"] == 0, "not before the delay")
        harness.clock.advance(by: .milliseconds(1))
        _ = harness.handle(.tick)
        #expect(harness.pass().recordAndClaim?.hosts.remaining["a.test:80"] == 1)
    }
}
