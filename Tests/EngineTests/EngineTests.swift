import Engine
import Foundation
import ServiceLifecycle
import Store
import TestSupport
import Testing

/// Runs a real engine (real `fetchq worker` processes) over a fresh store while `body` runs.
func withEngine(
    processes: Int = 1, concurrency: Int = 8, retryBaseMillis: Int = 20, maxBodyBytes: Int = 1 << 20,
    _ body: (Store, Engine) async throws -> Void
) async throws {
    try await withTestStore { store, _ in
        let engine = Engine(
            store: store,
            configuration: EngineConfiguration(
                processes: processes, concurrency: concurrency, maxBodyBytes: maxBodyBytes, tickMillis: 20,
                shutdownGraceMillis: 1_000, retry: RetryPolicy(baseMillis: retryBaseMillis, maxMillis: 1_000),
                workerExecutable: try FetchqBinary.path, userAgent: "fetchq-test"),
            logger: .quiet)
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

func submit(_ store: Store, _ engine: Engine, _ tasks: [NewTask]) async throws -> SubmittedJob {
    let job = try await store.submit(NewJob(tasks: tasks, timeoutMillis: 5_000), now: WallClock.nowMillis())
    engine.wake()
    return job
}

func task(_ url: String, attempts: Int = 3, timeout: Int = 5_000) -> NewTask {
    NewTask(
        request: FetchRequest(url: url), host: URL(string: url)?.host ?? "", timeoutMillis: timeout,
        maxAttempts: attempts)
}

/// Waits until every task of the job is final.
func waitUntilCompleted(_ store: Store, _ job: SubmittedJob, timeout: Duration = .seconds(30)) async throws -> Bool {
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
        // A port that was just free: nothing listens there.
        let target = try TargetServer()
        let closedURL = "\(target.baseURL)/ok/x"
        await target.stop()
        try await withEngine { store, engine in
            let job = try await submit(store, engine, [task(closedURL, attempts: 1)])
            #expect(try await waitUntilCompleted(store, job))
            let record = try #require(try store.task(job.taskIDs[0]))
            #expect(record.state == .failed)
            #expect(record.outcome?.error == "connection_failed")
        }
    }

    @Test func theRequestIsSentAsSubmitted() async throws {
        let target = try TargetServer()
        try await withEngine { store, engine in
            var echo = task("\(target.baseURL)/echo")
            echo.request = FetchRequest(
                url: "\(target.baseURL)/echo", method: "PUT", headers: [("X-Trace", "abc")], body: Array("payload".utf8)
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
