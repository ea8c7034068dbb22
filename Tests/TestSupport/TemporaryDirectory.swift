import Foundation
import Logging
import Store
import StoreSQLite

/// Runs `body` with a fresh directory that is removed afterwards, whatever happens.
public func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appending(path: "fetchq-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

/// Runs `body` with a migrated store on a new database file.
public func withTestStore<T>(_ body: (SQLiteStore, URL) async throws -> T) async throws -> T {
    try await withTemporaryDirectory { directory in
        let path = directory.appending(path: "fetchq.db")
        let store = try SQLiteStore(path: path.path, logger: .quiet)
        return try await body(store, path)
    }
}

extension Logger {
    /// A logger that drops everything: tests do not bootstrap logging.
    public static let quiet = Logger(label: "fetchq.test", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// Polls `condition` until it holds or `timeout` passes; answers whether it held.
public func eventually(
    timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
