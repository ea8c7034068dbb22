import NIOConcurrencyHelpers

/// Wakes readers that wait for the database to change: every write of the writer that changed
/// rows bumps a count and resumes whoever waits for a count past the one they saw. Long polls wait on it instead
/// of polling the database.
package final class CommitSignal: Sendable {
    /// A waiter between `wait` registering it and being resumed.
    private enum Entry {
        case registering
        case waiting(CheckedContinuation<Void, Never>)
        case canceled
    }

    private struct State {
        var count: UInt64 = 0
        var nextID = 0
        var entries: [Int: Entry] = [:]
    }

    private let state = NIOLockedValueBox(State())

    package init() {}

    /// Writes finished so far.
    package var count: UInt64 { state.withLockedValue { $0.count } }

    /// Called after each write; costs a lock when nobody waits.
    package func committed() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.count &+= 1
            guard !state.entries.isEmpty else { return [] }
            var ready: [CheckedContinuation<Void, Never>] = []
            for (id, entry) in state.entries {
                if case .waiting(let continuation) = entry {
                    ready.append(continuation)
                    state.entries[id] = nil
                }
            }
            return ready
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once a write has finished after the one `count` was read at, or when the task is canceled.
    package func wait(after count: UInt64) async {
        let id = state.withLockedValue { state -> Int in
            state.nextID += 1
            state.entries[state.nextID] = .registering
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLockedValue { state -> Bool in
                    if state.count != count || { if case .canceled? = state.entries[id] { true } else { false } }() {
                        state.entries[id] = nil
                        return true
                    }
                    state.entries[id] = .waiting(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
                switch state.entries[id] {
                case .waiting(let continuation)?:
                    state.entries[id] = nil
                    return continuation
                case .registering?:
                    state.entries[id] = .canceled
                    return nil
                case .canceled?, nil:
                    return nil
                }
            }
            waiter?.resume()
        }
    }
}
