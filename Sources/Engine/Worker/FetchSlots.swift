import NIOConcurrencyHelpers
import NIOCore

/// A worker's fetches: at most `concurrency` running, and behind them a short queue of orders the
/// supervisor sent ahead, so that a finished fetch starts the next one at once instead of waiting
/// for the supervisor's next pass. A queued order's budget starts when its fetch starts.
///
/// An order never waits in the queue longer than `maxQueueMillis`: past that it is handed back
/// unstarted (`onUnstarted`), and the supervisor returns its task to the queue without counting
/// an attempt. That bound keeps the claim's lease (timeout plus margin) and the supervisor's
/// stuck-worker limit true for queued orders too.
final class FetchSlots: Sendable {
    private struct Queued {
        let order: FetchOrder
        let since: ContinuousClock.Instant
    }

    private struct State {
        var running: [LeaseKey: RunningFetch] = [:]
        var queued = CircularBuffer<Queued>()
        var closed = false
        var idle: [CheckedContinuation<Void, Never>] = []
    }

    private let concurrency: Int
    private let maxQueueWait: Duration
    private let start: @Sendable (FetchOrder, _ finished: @escaping @Sendable () -> Void) -> RunningFetch
    private let onUnstarted: @Sendable (FetchOrder) -> Void
    private let onCanceledWhileQueued: @Sendable (FetchOrder) -> Void
    private let state = NIOLockedValueBox(State())

    /// `start` prepares the fetch of an order and must call `finished` once it has reported.
    init(
        concurrency: Int, maxQueueMillis: Int,
        start: @escaping @Sendable (FetchOrder, _ finished: @escaping @Sendable () -> Void) -> RunningFetch,
        onUnstarted: @escaping @Sendable (FetchOrder) -> Void,
        onCanceledWhileQueued: @escaping @Sendable (FetchOrder) -> Void
    ) {
        self.concurrency = max(1, concurrency)
        self.maxQueueWait = .milliseconds(maxQueueMillis)
        self.start = start
        self.onUnstarted = onUnstarted
        self.onCanceledWhileQueued = onCanceledWhileQueued
    }

    var runningCount: Int { state.withLockedValue { $0.running.count } }
    var queuedCount: Int { state.withLockedValue { $0.queued.count } }

    /// Starts the order's fetch if a slot is free, or queues it.
    func submit(_ order: FetchOrder) {
        let fetch = state.withLockedValue { state -> RunningFetch? in
            guard !state.closed else { return nil }
            guard state.running.count < concurrency && state.queued.isEmpty else {
                state.queued.append(Queued(order: order, since: .now))
                return nil
            }
            return register(order, in: &state)
        }
        fetch?.start()
    }

    /// Cancels the order's fetch if it runs, or takes it out of the queue and reports it canceled.
    func cancel(_ lease: LeaseKey) {
        enum Found {
            case running(RunningFetch)
            case queued(FetchOrder)
        }
        let found = state.withLockedValue { state -> Found? in
            if let fetch = state.running[lease] { return .running(fetch) }
            guard let index = state.queued.firstIndex(where: { $0.order.lease == lease }) else { return nil }
            return .queued(state.queued.remove(at: index).order)
        }
        switch found {
        case .running(let fetch): fetch.cancel()
        case .queued(let order): onCanceledWhileQueued(order)
        case nil: break
        }
    }

    /// Hands back the queued orders that have waited longer than the bound (called periodically).
    func expire(now: ContinuousClock.Instant = .now) {
        let expired = state.withLockedValue { state -> [FetchOrder] in
            var expired: [FetchOrder] = []
            while let first = state.queued.first, now - first.since > maxQueueWait {
                expired.append(state.queued.removeFirst().order)
            }
            return expired
        }
        for order in expired { onUnstarted(order) }
    }

    /// Hands back every queued order (the supervisor drains: nothing more is to start).
    func handBackQueued() {
        let queued = state.withLockedValue { state -> [FetchOrder] in
            defer { state.queued.removeAll() }
            return state.queued.map(\.order)
        }
        for order in queued { onUnstarted(order) }
    }

    /// Drops the queue (the supervisor has given those tasks back already), cancels every running
    /// fetch, and returns once each has reported.
    func close() async {
        await withCheckedContinuation { continuation in
            let fetches = state.withLockedValue { state -> [RunningFetch]? in
                state.closed = true
                state.queued.removeAll()
                guard !state.running.isEmpty else { return nil }
                state.idle.append(continuation)
                return Array(state.running.values)
            }
            guard let fetches else { return continuation.resume() }
            for fetch in fetches { fetch.cancel() }
        }
    }

    /// The order's fetch, registered before it starts (so even one that fails at once finds
    /// itself), and holding its slot from then on.
    private func register(_ order: FetchOrder, in state: inout State) -> RunningFetch {
        let lease = order.lease
        let fetch = start(order) { [self] in finished(lease) }
        state.running[lease] = fetch
        return fetch
    }

    /// Frees the lease's slot and starts what waits in the queue, oldest first.
    private func finished(_ lease: LeaseKey) {
        var next: [RunningFetch] = []
        var expired: [FetchOrder] = []
        let now = ContinuousClock.now
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.running[lease] = nil
            while state.running.count < concurrency, let first = state.queued.popFirst() {
                if now - first.since > maxQueueWait {
                    expired.append(first.order)
                } else {
                    next.append(register(first.order, in: &state))
                }
            }
            guard state.running.isEmpty else { return [] }
            defer { state.idle = [] }
            return state.idle
        }
        for order in expired { onUnstarted(order) }
        for fetch in next { fetch.start() }
        for waiter in waiters { waiter.resume() }
    }
}
