import Foundation
import TestSupport
import Testing

@testable import Store

/// Waiting for the SQLite writer's next commit: woken by a commit, by cancellation, or at once when
/// a commit happened since the count was read. (Waiting for a job, on every engine, is in
/// ReadConformanceTests.)
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
}
