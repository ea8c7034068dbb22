import Engine
import Foundation
import ServiceLifecycle
import Store
import StoreSQLite
import TestSupport
import Testing

/// Runs a real engine (real `fetchq worker` processes) over a fresh store while `body` runs.
func withEngine(
    processes: Int = 1, concurrency: Int = 8, retryBaseMillis: Int = 20, retryMaxMillis: Int = 5_000,
    maxBodyBytes: Int = 1 << 20, perHost: Int = 1_000, _ body: (SQLiteStore, Engine) async throws -> Void
) async throws {
    try await withTestStore { store, _ in
        let configuration = EngineConfiguration(
            processes: processes, concurrency: concurrency, maxBodyBytes: maxBodyBytes, tickMillis: 20,
            shutdownGraceMillis: 1_000, retry: RetryPolicy(baseMillis: retryBaseMillis, maxMillis: retryMaxMillis),
            perHostConcurrency: perHost, perHostIntervalMillis: 0,
            destinations: DestinationGuard(allowPrivateTargets: true), trustRoots: nil,
            workerExecutable: try FetchqBinary.path, userAgent: "fetchq-test", workerLogLevel: "info")
        let engine = Engine(store: store, configuration: configuration, logger: .quiet)
        let group = ServiceGroup(services: [engine], logger: .quiet)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await body(store, engine)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

func submit(_ store: SQLiteStore, _ engine: Engine, _ tasks: [NewTask]) async throws -> SubmittedJob {
    let job = try await store.submit(NewJob(tasks: tasks, timeoutMillis: 5_000), now: WallClock.nowMillis())
    engine.wake()
    return job
}

func task(_ url: String, attempts: Int = 3, timeout: Int = 5_000) -> NewTask {
    // The host key is host:port, as the API makes it.
    let components = URLComponents(string: url)
    let host = (components?.host ?? "") + (components?.port.map { ":\($0)" } ?? "")
    return NewTask(request: FetchRequest(url: url), host: host, timeoutMillis: timeout, maxAttempts: attempts)
}

/// Waits until every task of the job is final.
func waitUntilCompleted(_ store: SQLiteStore, _ job: SubmittedJob, timeout: Duration = .seconds(60)) async throws
    -> Bool
{
    try await eventually(timeout: timeout) { try store.job(job.id)?.state == .completed }
}

@Suite struct EngineTests {
    @Test func retryableFailuresAreRetriedUntilTheTargetRecovers() async throws {
        let target = try TargetServer()
        try await withEngine { store, engine in
            let job = try await submit(store, engine, [task("\(target.baseURL)/flaky/a/2", attempts: 3)])
            #expect(try await waitUntilCompleted(store, job))
            let record = try #require(try store.task(job.taskIDs[0]))
            #expect(record.state == .succeeded)
            #expect(record.attempts == 3)
            #expect(target.requests("/flaky/a/2") == 3)
        }
        await target.stop()
    }

    @Test func aFailureThatOutlastsTheAttemptsFailsWithTheLastOutcome() async throws {
        let target = try TargetServer()
        try await withEngine { store, engine in
            let job = try await submit(store, engine, [task("\(target.baseURL)/flaky/b/5", attempts: 2)])
            #expect(try await waitUntilCompleted(store, job))
            let record = try #require(try store.task(job.taskIDs[0]))
            #expect(record.state == .failed)
            #expect(record.attempts == 2)
            #expect(record.outcome?.statusCode == 500)
        }
        await target.stop()
    }

    @Test func aNonRetryableStatusFailsAtOnce() async throws {
        let target = try TargetServer()
        try await withEngine { store, engine in
            let job = try await submit(store, engine, [task("\(target.baseURL)/status/404", attempts: 5)])
            #expect(try await waitUntilCompleted(store, job))
            let record = try #require(try store.task(job.taskIDs[0]))
            #expect(record.state == .failed)
            #expect(record.attempts == 1)
            #expect(target.requests("/status/404") == 1)
        }
        await target.stop()
    }

    @Test func aRequestOverItsTimeoutFailsAsTimeout() async throws {
        let target = try TargetServer()
        try await withEngine { store, engine in
            let job = try await submit(store, engine, [task("\(target.baseURL)/slow/3000", attempts: 1, timeout: 200)])
            #expect(try await waitUntilCompleted(store, job))
            let record = try #require(try store.task(job.taskIDs[0]))
            #expect(record.state == .failed)
            #expect(record.outcome?.error == "timeout")
            #expect((record.outcome?.durationMillis ?? 0) < 2_000)
        }
        await target.stop()
    }

    @Test func aRefusedConnectionIsAConnectionFailure() async throws {
        // A port held by a socket that never listens: connections there are refused.
        let closed = try ClosedPort()
        let closedURL = "http://127.0.0.1:\(closed.port)/ok/x"
        try await withEngine { store, engine in
            let job = try await submit(store, engine, [task(closedURL, attempts: 1)])
            #expect(try await waitUntilCompleted(store, job))
            let record = try #require(try store.task(job.taskIDs[0]))
            #expect(record.state == .failed)
            #expect(record.outcome?.error == "connection_failed")
        }
        withExtendedLifetime(closed) {}
    }

    @Test func theRequestIsSentAsSubmitted() async throws {
        let target = try TargetServer()
        try await withEngine { store, engine in
            var echo = task("\(target.baseURL)/echo")
            echo.request = FetchRequest(
                url: "\(target.baseURL)/echo", method: "PUT", headers: [HeaderField("X-Trace", "abc")],
                body: Array("payload".utf8)
            )
            let job = try await submit(store, engine, [echo])
            #expect(try await waitUntilCompleted(store, job))
            guard case .body(let body, _) = try store.body(of: job.taskIDs[0]) else {
                Issue.record("no body stored")
                return
            }
            let text = String(decoding: body.bytes, as: UTF8.self)
            #expect(text.contains(#""method":"PUT""#))
            #expect(text.contains(#""x-trace":"abc""#))
            #expect(text.contains(#""user-agent":"fetchq-test""#))
            #expect(text.contains(#""body":"payload""#))
        }
        await target.stop()
    }

    @Test func cancelingARunningTaskAbortsItAndFreesItsSlot() async throws {
        let target = try TargetServer()
        // One slot in all: the next task can only run once the slow one is aborted.
        try await withEngine(concurrency: 1) { store, engine in
            let slow = try await submit(
                store, engine, [task("\(target.baseURL)/slow/30000", attempts: 1, timeout: 60_000)])
            #expect(try await eventually { try store.job(slow.id)?.counts.running == 1 })
            let canceled = try #require(try await store.cancel(task: slow.taskIDs[0], now: WallClock.nowMillis()))
            #expect(canceled.running.count == 1)
            engine.abort(canceled.running)
            let next = try await submit(store, engine, [task("\(target.baseURL)/ok/next")])
            #expect(try await waitUntilCompleted(store, next, timeout: .seconds(10)))
            #expect(try store.task(next.taskIDs[0])?.state == .succeeded)
            #expect(try store.task(slow.taskIDs[0])?.state == .canceled)
        }
        await target.stop()
    }
}

@Suite struct PolitenessTests {
    @Test func retryAfterIsHonouredBeforeTheNextAttempt() async throws {
        let target = try TargetServer()
        // Backoff alone would wait at most 20 ms; only Retry-After explains a wait of a second.
        try await withEngine(retryBaseMillis: 20) { store, engine in
            let job = try await submit(store, engine, [task("\(target.baseURL)/ratelimit/r/1/1", attempts: 3)])
            #expect(try await waitUntilCompleted(store, job))
            let record = try #require(try store.task(job.taskIDs[0]))
            #expect(record.state == .succeeded)
            #expect(record.attemptsLog.count == 2)
            let first = try #require(record.attemptsLog.first)
            let second = try #require(record.attemptsLog.last?.startedAt)
            #expect(first.statusCode == 429)
            #expect(second - first.finishedAt >= 1_000)
        }
        await target.stop()
    }

    @Test func theTargetNeverSeesMoreThanThePerHostLimit() async throws {
        let target = try TargetServer()
        try await withEngine(processes: 2, concurrency: 16, perHost: 3) { store, engine in
            let tasks = (0..<30).map { task("\(target.baseURL)/work/\($0)/100") }
            let job = try await submit(store, engine, tasks)
            #expect(try await waitUntilCompleted(store, job))
            #expect(try store.job(job.id)?.counts.succeeded == 30)
        }
        #expect(target.maxInFlight == 3)
        await target.stop()
    }

    @Test func aSlowHostDoesNotHoldBackAFastOne() async throws {
        let slow = try TargetServer()
        let fast = try TargetServer()
        try await withEngine(processes: 1, concurrency: 8, perHost: 4) { store, engine in
            // The slow host's tasks come first in the queue. Four at a time, 4 s each, they take 24 s
            // at the least, however fast the machine: a fast job held back behind them would end
            // after most of them, whatever the deadline below.
            // Their own timeout is far longer than 4 s: a timed-out request the target still serves would
            // be counted in flight beside its retry.
            let slowJob = try await submit(
                store, engine, (0..<24).map { task("\(slow.baseURL)/work/\($0)/4000", timeout: 60_000) })
            let fastJob = try await submit(store, engine, (0..<24).map { task("\(fast.baseURL)/ok/\($0)") })
            #expect(try await waitUntilCompleted(store, fastJob))
            let slowJobNow = try #require(try store.job(slowJob.id))
            #expect(slowJobNow.state == .pending)
            #expect(slowJobNow.counts.queued > 0, "most of the slow job is still to come")
            #expect(slowJobNow.counts.succeeded < 12)
        }
        #expect(slow.maxInFlight <= 4)
        await slow.stop()
        await fast.stop()
    }

    @Test func aRateLimitedHostPausesOnlyItself() async throws {
        let limited = try TargetServer()
        let other = try TargetServer()
        // One request at a time per host, so the host's other tasks are still queued when it asks for a pause.
        try await withEngine(processes: 1, concurrency: 8, retryBaseMillis: 20, retryMaxMillis: 20_000, perHost: 1) {
            store, engine in
            // One request asks for a 15 s pause; the host's other tasks must wait for it. (15 s, not less:
            // the other host's job must finish inside the pause even under a sanitizer on a busy machine.)
            let limitedJob = try await submit(
                store, engine,
                [task("\(limited.baseURL)/ratelimit/p/1/15", attempts: 3)]
                    + (0..<5).map { task("\(limited.baseURL)/ok/later\($0)") })
            #expect(try await eventually(timeout: .seconds(120)) { limited.requests("/ratelimit/p/1/15") >= 1 })
            let otherJob = try await submit(store, engine, (0..<10).map { task("\(other.baseURL)/ok/\($0)") })
            #expect(try await waitUntilCompleted(store, otherJob, timeout: .seconds(14)))
            #expect(try store.job(limitedJob.id)?.state == .pending)
            #expect(try await waitUntilCompleted(store, limitedJob, timeout: .seconds(60)))
            let record = try #require(try store.task(limitedJob.taskIDs[0]))
            #expect(record.state == .succeeded)
            let pausedAt = try #require(record.attemptsLog.first?.finishedAt)
            for id in limitedJob.taskIDs.dropFirst() {
                let started = try #require(try store.task(id)?.attemptsLog.first?.startedAt)
                #expect(started >= pausedAt + 14_900, "a task of the paused host started during the pause")
            }
        }
        await limited.stop()
        await other.stop()
    }
}
