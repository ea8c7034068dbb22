import NIOConcurrencyHelpers

/// A one-shot signal: once `fire()` is called, every `wait()` returns, now and later.
final class ShutdownSignal: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Void, Never>])
        case fired
    }

    private let state = NIOLockedValueBox(State.waiting([]))

    func fire() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            guard case .waiting(let waiters) = state else { return [] }
            state = .fired
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once fired. Cancelling the waiting task fires the signal.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let fired = state.withLockedValue { state -> Bool in
                    guard case .waiting(var waiters) = state else { return true }
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return false
                }
                if fired { continuation.resume() }
            }
        } onCancel: {
            fire()
        }
    }
}
