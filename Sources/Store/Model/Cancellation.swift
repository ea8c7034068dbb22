import Foundation

/// What a cancel did: how many tasks became `canceled`, and which of them were running (their
/// workers should abort them).
public struct Cancellation: Sendable {
    public let canceled: Int
    public let running: [Int64]

    package init(canceled: Int, running: [Int64]) {
        self.canceled = canceled
        self.running = running
    }
}
