import Foundation
import TestSupport
import Testing

@testable import Store

/// Waiting for the writer's next commit: woken by a commit, by cancellation, or at once when a
/// commit happened since the count was read.
@Suite struct CommitSignalTests {
    @Test func aWaiterWakesOnTheNextCommit() async {
        let signal = CommitSignal()
        let seen = signal.count
        async let woke: Void = signal.wait(after: seen)
        // Whether the waiter registered before this commit or after it (then it sees the count
        // changed and returns at once), it returns; one that missed the commit would hang.
        signal.committed()
        await woke
        #expect(signal.count == seen + 1)
    }

    @Test func aWaiterReturnsWhenCanceled() async {
        let signal = CommitSignal()
        let waiter = Task { await signal.wait(after: signal.count) }
        waiter.cancel()
        await waiter.value
        #expect(signal.count == 0, "no commit happened; cancellation alone ended the wait")
    }

    @Test func waitingForAJobEndsAtTheDeadlineWhenItDoesNotComplete() async throws {
        try await withTestStore { store, _ in
            let job = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.example/")], timeoutMillis: 1_000), now: WallClock.nowMillis())
            let started = ContinuousClock.now
            let read = try await store.job(job.id, waitingUpTo: .milliseconds(300))
            #expect(read?.state == .pending)
            #expect(ContinuousClock.now - started >= .milliseconds(300))
        }
    }

    @Test func aCanceledWaitForAJobReturnsAtOnce() async throws {
        try await withTestStore { store, _ in
            let job = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.example/")], timeoutMillis: 1_000), now: WallClock.nowMillis())
            let started = ContinuousClock.now
            let waiter = Task { try await store.job(job.id, waitingUpTo: .seconds(30)) }
            waiter.cancel()
            #expect(try await waiter.value?.state == .pending)
            #expect(ContinuousClock.now - started < .seconds(5), "a canceled wait neither waits nor spins")
        }
    }
}
