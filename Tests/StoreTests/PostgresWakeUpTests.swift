import Foundation
import NIOConcurrencyHelpers
import Store
import StorePostgres
import TestSupport
import Testing

/// `LISTEN/NOTIFY`: a submission stored through one node wakes every other node, so an idle node
/// starts new work without waiting for its next tick.
@Suite struct PostgresWakeUpTests {
    @Test func aSubmissionThroughOneNodeWakesAnother() async throws {
        try await SharedPostgres.shared.withDatabase { url in
            try await withPostgresStore(url: url) { first in
                try await withPostgresStore(url: url) { other in
                    let second = try #require(other as? PostgresStore)
                    let woken = NIOLockedValueBox(0)
                    let listening = Task {
                        for await _ in second.workArrived { woken.withLockedValue { $0 += 1 } }
                    }
                    defer { listening.cancel() }
                    // The other node's LISTEN starts beside its start-up: submit until it hears one.
                    var heard = false
                    for attempt in 0..<20 where !heard {
                        let job = NewJob(
                            tasks: [
                                NewTask(
                                    request: FetchRequest(url: "http://example.test/\(attempt)"), host: "example.test",
                                    timeoutMillis: 1_000)
                            ], timeoutMillis: 1_000)
                        _ = try await first.submit(job, now: WallClock.nowMillis())
                        heard = await eventually(timeout: .seconds(3)) { woken.withLockedValue { $0 } > 0 }
                    }
                    #expect(heard, "the other node never heard fetchq_work")
                }
            }
        }
    }
}
