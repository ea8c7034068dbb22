import NIOConcurrencyHelpers

/// A many-producer, one-consumer queue of events. `take()` hands over everything posted since the
/// last call in one batch, which is what lets the scheduler record many results per transaction.
final class EventInbox<Event: Sendable>: Sendable {
    private struct State {
        var events: [Event] = []
        var waiter: CheckedContinuation<[Event], Never>?
    }

    private let state = NIOLockedValueBox(State())

    func post(_ event: Event) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<[Event], Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.events.append(event)
            return nil
        }
        waiter?.resume(returning: [event])
    }

    /// Every event posted so far, waiting for at least one. Only one task may call this.
    func take() async -> [Event] {
        await withCheckedContinuation { continuation in
            let ready = state.withLockedValue { state -> [Event]? in
                guard state.events.isEmpty else {
                    defer { state.events.removeAll(keepingCapacity: true) }
                    return state.events
                }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
