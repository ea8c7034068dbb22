import Foundation
import Logging
import Store
import StorePostgres

/// The storage engines the Store conformance suite runs on: the same test code for each.
public enum StoreEngine: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `Store`, on a new SQLite file in a temporary directory.
    case sqlite
    /// `PostgresStore`, on a new database of the process's shared PostgreSQL server.
    case postgres

    public var description: String { rawValue }
}

/// Runs `body` with a new, empty store of `engine`, seen only through `QueueStore`, and tears it
/// down afterwards, whatever happens.
public func withStore<T>(_ engine: StoreEngine, _ body: (any QueueStore) async throws -> T) async throws -> T {
    switch engine {
    case .sqlite:
        try await withTestStore { store, _ in try await body(store) }
    case .postgres:
        try await SharedPostgres.shared.withDatabase { url in try await withPostgresStore(url: url, body) }
    }
}

/// A `PostgresStore` on the database at `url`: `run()` in a child task, `start(now:)` awaited
/// (migrations, node registered), then `body`; the child is cancelled at the end.
func withPostgresStore<T>(url: String, _ body: (any QueueStore) async throws -> T) async throws -> T {
    let store = PostgresStore(
        location: try PostgresLocation(url: url),
        node: NodeIdentity(id: "conf-\(UUID().uuidString.prefix(8))", host: "127.0.0.1", workers: 2),
        logger: .quiet)
    return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
        group.addTask { await store.run() }
        // Thrown out of here, the group cancels `run()` and waits for it.
        try await store.start(now: WallClock.nowMillis())
        let result = try await body(store)
        group.cancelAll()
        return result
    }
}
