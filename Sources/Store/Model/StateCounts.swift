import Foundation

/// Number of a job's tasks in each state.
public struct StateCounts: Sendable, Equatable {
    public var queued = 0
    public var running = 0
    public var succeeded = 0
    public var failed = 0
    public var canceled = 0

    public init() {}

    public subscript(state: TaskState) -> Int {
        switch state {
        case .queued: queued
        case .running: running
        case .succeeded: succeeded
        case .failed: failed
        case .canceled: canceled
        }
    }

    public var total: Int { queued + running + succeeded + failed + canceled }
}
