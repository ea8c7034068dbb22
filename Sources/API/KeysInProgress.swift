import NIOConcurrencyHelpers

/// Idempotency keys whose submission is being stored, so a concurrent duplicate gets 409.
final class KeysInProgress: Sendable {
    private let keys = NIOLockedValueBox<Set<String>>([])

    /// False when the key is already in progress.
    func claim(_ key: String) -> Bool { keys.withLockedValue { $0.insert(key).inserted } }

    func release(_ key: String) { _ = keys.withLockedValue { $0.remove(key) } }
}
