import Foundation
import Logging
import NIOConcurrencyHelpers
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

/// A `PostgresStore` on the database at `url`: `run()` going, `start(now:)` awaited (migrations,
/// node registered), then `body`; `run()` is canceled at the end and must return within
/// `stopLimit`, or the test fails saying so.
public func withPostgresStore<T>(url: String, _ body: (any QueueStore) async throws -> T) async throws -> T {
    let store = PostgresStore(
        location: try PostgresLocation(url: url),
        node: NodeIdentity(id: "conf-\(UUID().uuidString.prefix(8))", host: "127.0.0.1", workers: 2),
        logger: .quiet, deadline: .seconds(120))
    // A task of its own rather than a child of a group: a `run()` that ignored its cancellation
    // would keep a group (and so the test, and every test waiting for a database) waiting forever.
    let stopped = NIOLockedValueBox(false)
    let running = Task {
        await store.run()
        stopped.withLockedValue { $0 = true }
    }
    let result: Result<T, any Error>
    do {
        try await store.start(now: WallClock.nowMillis())
        result = .success(try await body(store))
    } catch {
        result = .failure(error)
    }
    running.cancel()
    guard await eventually(timeout: stopLimit, { stopped.withLockedValue { $0 } }) else {
        throw ServiceProcessError("PostgresStore.run() did not return within \(stopLimit) of being canceled")
    }
    return try result.get()
}

/// How long a canceled `PostgresStore.run()` may take to return, on a busy machine.
private let stopLimit = Duration.seconds(30)
