import Dispatch
import NIOConcurrencyHelpers

/// The requests handed from libmicrohttpd to Swift and not yet completed, and shutdown's waits for
/// them. Pure bookkeeping: the daemon does the suspending and resuming.
///
/// A request moves through three phases: `suspended` (its connection waits for an answer),
/// `answered` (an answer was handed over and the connection asked to resume), `queued` (the
/// response is with libmicrohttpd, being sent). It is removed once libmicrohttpd reports it
/// completed (sent, or its connection closed).
final class InFlightRequests<Entry: Sendable>: Sendable {
    /// What shutdown waits for.
    enum Condition: Sendable {
        /// Every request has completed.
        case noneInFlight
        /// No connection is suspended any more: libmicrohttpd may be stopped.
        case noneSuspended
    }

    private enum Phase {
        case suspended
        case answered
        case queued
    }

    private struct Pending {
        let entry: Entry
        var phase = Phase.suspended
    }

    private struct Waiter {
        let condition: Condition
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var pending: [ObjectIdentifier: Pending] = [:]
        /// Once closed, nothing more is admitted.
        var closed = false
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0

        func holds(_ condition: Condition) -> Bool {
            switch condition {
            case .noneInFlight: pending.isEmpty
            case .noneSuspended: !pending.values.contains { $0.phase != .queued }
            }
        }

        /// Removes the waiters whose condition now holds (closing admission, since each of them
        /// goes on to stop the daemon) and returns them to be resumed outside the lock.
        mutating func satisfiedWaiters() -> [Waiter] {
            let ready = waiters.filter { holds($0.value.condition) }
            guard !ready.isEmpty else { return [] }
            closed = true
            for id in ready.keys { waiters[id] = nil }
            return Array(ready.values)
        }
    }

    private let state = NIOLockedValueBox(State())

    /// Records a request about to be suspended; false once closed (answer it at once instead).
    func admit(_ key: ObjectIdentifier, _ entry: Entry) -> Bool {
        state.withLockedValue { state in
            guard !state.closed else { return false }
            state.pending[key] = Pending(entry: entry)
            return true
        }
    }

    /// Whether the request still waits for an answer.
    func isSuspended(_ key: ObjectIdentifier) -> Bool {
        state.withLockedValue { $0.pending[key]?.phase == .suspended }
    }

    /// Marks a suspended request answered and returns its entry; nil if something answered it first.
    func answer(_ key: ObjectIdentifier) -> Entry? {
        state.withLockedValue { state in
            guard let pending = state.pending[key], pending.phase == .suspended else { return nil }
            state.pending[key]?.phase = .answered
            return pending.entry
        }
    }

    /// Closes admission and marks every suspended request answered, returning their entries.
    func closeAndAnswerAll() -> [Entry] {
        state.withLockedValue { state in
            state.closed = true
            let suspended = state.pending.filter { $0.value.phase == .suspended }
            for key in suspended.keys { state.pending[key]?.phase = .answered }
            return suspended.values.map(\.entry)
        }
    }

    /// The request's response is with libmicrohttpd: its connection is no longer suspended.
    func queued(_ key: ObjectIdentifier) {
        update { $0.pending[key]?.phase = .queued }
    }

    /// libmicrohttpd completed the request.
    func remove(_ key: ObjectIdentifier) {
        update { $0.pending[key] = nil }
    }

    /// Returns true as soon as `condition` holds, closing admission, so that no request is
    /// suspended after it; false when `limit` passes first. Deliberately deaf to cancellation:
    /// shutdown must end with the daemon stopped, and `limit` bounds the wait.
    func closeWhen(_ condition: Condition, within limit: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            let id = state.withLockedValue { state -> Int? in
                if state.holds(condition) {
                    state.closed = true
                    return nil
                }
                let id = state.nextWaiter
                state.nextWaiter += 1
                state.waiters[id] = Waiter(condition: condition, continuation: continuation)
                return id
            }
            guard let id else { return continuation.resume(returning: true) }
            let (seconds, attoseconds) = limit.components
            let deadline = DispatchTime.now() + Double(seconds) + Double(attoseconds) / 1e18
            DispatchQueue.global().asyncAfter(deadline: deadline) {
                let expired = self.state.withLockedValue { $0.waiters.removeValue(forKey: id) }
                expired?.continuation.resume(returning: false)
            }
        }
    }

    private func update(_ change: (inout State) -> Void) {
        let ready = state.withLockedValue { state in
            change(&state)
            return state.satisfiedWaiters()
        }
        for waiter in ready { waiter.continuation.resume(returning: true) }
    }
}
