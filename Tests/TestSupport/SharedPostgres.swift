import Foundation
import NIOConcurrencyHelpers

/// One PostgreSQL server for the whole test process, started the first time a test asks for a
/// database and stopped when the process exits (`atexit`). Each test gets a database of its own,
/// dropped when it is done; at most `capacity` of them are in use at once, so a busy machine
/// runs a few PostgreSQL tests at a time rather than all of them against one server.
///
/// A process that crashes leaves the server running, as `PostgresServer` says.
public actor SharedPostgres {
    public static let shared = SharedPostgres(capacity: 4)

    private let capacity: Int
    private var inUse = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var started: Result<PostgresServer, any Error>?

    private init(capacity: Int) { self.capacity = capacity }

    /// Runs `body` with the URL of a new, empty database, and drops the database afterwards
    /// (its connections too), whatever happens.
    public nonisolated func withDatabase<T>(_ body: (String) async throws -> T) async throws -> T {
        await acquire()
        let result: Result<T, any Error>
        do {
            let server = try await server()
            let name = "conf_\(UInt32.random(in: 0...UInt32.max))_\(UInt32.random(in: 0...UInt32.max))"
            let url = try server.createDatabase(name)
            do {
                result = .success(try await body(url))
            } catch {
                result = .failure(error)
            }
            _ = try? server.query(
                "postgres://fetchq@127.0.0.1:\(server.port)/postgres", "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        } catch {
            result = .failure(error)
        }
        await release()
        return try result.get()
    }

    /// Runs one SQL statement on the database at `url` (one of `withDatabase`'s) with `psql`;
    /// answers its rows, one per line, columns split by `|`.
    public func query(_ url: String, _ sql: String) throws -> [String] { try server().query(url, sql) }

    /// The server, started on first use (`initdb` takes seconds); a failure to start is kept, so
    /// every later test fails at once with the same words.
    private func server() throws -> PostgresServer {
        if let started { return try started.get() }
        let result = Result { try PostgresServer.start() }
        started = result
        if case .success(let server) = result {
            Self.running.withLockedValue { $0 = server }
            atexit { SharedPostgres.running.withLockedValue { $0?.stop() } }
        }
        return try result.get()
    }

    /// The started server, for the exit handler (a C function pointer captures nothing).
    private static let running = NIOLockedValueBox<PostgresServer?>(nil)

    private func acquire() async {
        if inUse < capacity {
            inUse += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the slot to the next waiter, or frees it.
    private func release() {
        if waiting.isEmpty {
            inUse -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
