import Testing

@testable import HTTPServer

@Suite struct ConnectionTableTests {
    private let second: UInt64 = 1_000_000_000

    private func table(headerTimeout: Int = 10, minBodyRate: Int = 1_024) -> ConnectionTable {
        ConnectionTable(
            headerTimeoutSeconds: headerTimeout, minBodyRate: minBodyRate, connectionLimit: 3, perAddressLimit: 2)
    }

    @Test func aHeadNotCompleteWithinTheTimeoutIsOverdueOnce() {
        var connections = table()
        connections.opened(1, socket: 7, address: "10.0.0.1", at: 0)
        #expect(connections.takeOverdue(at: 10 * second).isEmpty)
        #expect(
            connections.takeOverdue(at: 10 * second + 1)
                == [ConnectionTable.Overdue(socket: 7, address: "10.0.0.1", deadline: .header)])
        #expect(connections.takeOverdue(at: 20 * second).isEmpty, "a connection is handed out once")
        connections.closed(1)
        #expect(connections.count == 0)
    }

    @Test func aKeptAliveConnectionBetweenRequestsIsLeftToTheIdleTimeout() {
        var connections = table()
        connections.opened(1, socket: 7, address: "a", at: 0)
        connections.headComplete(1, at: 1 * second)
        connections.handling(1)
        #expect(connections.takeOverdue(at: 100 * second).isEmpty, "no deadline while it is answered")
        connections.requestEnded(1)
        #expect(connections.takeOverdue(at: 1_000 * second).isEmpty, "no head deadline while it is idle")
        // Its next request is under the body's floor as any other.
        connections.headComplete(1, at: 1_000 * second)
        #expect(connections.takeOverdue(at: 1_010 * second).map(\.deadline) == [.body])
    }

    @Test func aBodyMustKeepUpTheFloorAfterItsFirstSecond() {
        var connections = table()
        connections.opened(1, socket: 7, address: "a", at: 0)
        connections.headComplete(1, at: 0)
        #expect(connections.takeOverdue(at: 1 * second).isEmpty, "the first second is free")
        connections.bodyReceived(1, bytes: 2_048)
        #expect(connections.takeOverdue(at: 3 * second).isEmpty, "2 KiB in the 2 s after the first")
        #expect(connections.takeOverdue(at: 4 * second).map(\.deadline) == [.body])
        var unlimited = table(minBodyRate: 0)
        unlimited.opened(1, socket: 7, address: "a", at: 0)
        unlimited.headComplete(1, at: 0)
        #expect(unlimited.takeOverdue(at: 1_000 * second).isEmpty)
    }

    @Test func theLimitsRefuseByAddressAndInAll() {
        var connections = table()
        #expect(connections.refusal(for: "a") == nil)
        connections.opened(1, socket: 1, address: "a", at: 0)
        connections.opened(2, socket: 2, address: "a", at: 0)
        #expect(connections.refusal(for: "a") == .perAddress)
        #expect(connections.refusal(for: "b") == nil)
        connections.opened(3, socket: 3, address: "b", at: 0)
        #expect(connections.refusal(for: "c") == .connections)
        connections.closed(1)
        #expect(connections.refusal(for: "a") == nil)
    }

    @Test func anEpisodeIsReportedOnceWhenItStartsAndOnceWhenItEnds() {
        var episodes = DeadlineEpisodes(threshold: 3, windowSeconds: 10)
        #expect(episodes.record(["a", "b"], at: 0) == nil)
        #expect(
            episodes.record(["a"], at: 1 * second)
                == .started(count: 3, top: [.init(address: "a", count: 2), .init(address: "b", count: 1)]))
        #expect(episodes.record(["a", "a", "a"], at: 2 * second) == nil, "said once per episode")
        #expect(episodes.record([], at: 5 * second) == nil)
        #expect(
            episodes.record([], at: 13 * second)
                == .ended(total: 6, top: [.init(address: "a", count: 5), .init(address: "b", count: 1)]))
        #expect(episodes.record([], at: 14 * second) == nil)
    }
}
