import Foundation
import TestSupport
import Testing

@testable import Store
@testable import StoreSQLite

// What only the SQLite engine has: its file, its migrations, its write-ahead log. Everything an
// engine must do alike is in Conformance/, run on every engine.

@Suite struct SQLiteMigrationTests {
    @Test func migrationsApplyOnceAndAreRecorded() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "m.db").path
            let first = try SQLiteStore.migrate(path: path, logger: .quiet)
            #expect(first == SQLiteStore.knownMigrations)
            let second = try SQLiteStore.migrate(path: path, logger: .quiet)
            #expect(second.isEmpty)
            // Opening a store on a migrated database applies nothing and works.
            let store = try SQLiteStore(path: path, logger: .quiet)
            #expect(try store.totals() == StateCounts())
        }
    }

    /// Migration 0008 rewrote the tasks table's method and state CHECKs in place: they still refuse
    /// what they refused, on the connection that migrated and on one opened afterwards.
    @Test func rewrittenChecksStillRefuseUnknownMethodsAndStates() async throws {
        try await withTestStore { store, path in
            let submitted = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.test/")], timeoutMillis: 1_000), now: 1)
            let database = try Database(path: path.path, mode: .readWrite)
            #expect(try database.queryOne("PRAGMA integrity_check") { $0.string(0) } == "ok")
            let id = submitted.taskIDs[0].rawValue
            for method in ["GET", "OPTIONS"] {
                try database.run("UPDATE tasks SET method = ? WHERE id = ?", [.text(method), .text(id)])
            }
            for state in TaskState.allCases {
                try database.run("UPDATE tasks SET state = ? WHERE id = ?", [.text(state.rawValue), .text(id)])
            }
            #expect(throws: StoreError.self) {
                try database.run("UPDATE tasks SET method = 'get' WHERE id = ?", [.text(id)])
            }
            #expect(throws: StoreError.self) {
                try database.run("UPDATE tasks SET state = 'paused' WHERE id = ?", [.text(id)])
            }
        }
    }
}

@Suite struct SQLiteFileTests {
    @Test func newDatabaseIsReadableByItsOwnerOnly() async throws {
        try await withTestStore { _, path in
            let attributes = try FileManager.default.attributesOfItem(atPath: path.path)
            let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue
            #expect(permissions == 0o600)
        }
    }

    @Test func committedPagesReachTheDatabaseFileWithoutTheWriterCheckpointing() async throws {
        try await withTestStore { store, path in
            let fileSize = { (try? FileManager.default.attributesOfItem(atPath: path.path)[.size] as? Int) ?? 0 }
            let before = fileSize()
            _ = try await store.submit(
                NewJob(tasks: (0..<2_000).map { sampleTask("http://a.test/\($0)") }, timeoutMillis: 1_000), now: 1)
            // The writer never checkpoints (wal_autocheckpoint = 0): the background checkpointer
            // copies the commit into the database file, so the log does not grow without end.
            #expect(await eventually(timeout: .seconds(10)) { fileSize() > before + 100_000 })
        }
    }

    /// A steady stream of writes never leaves the background checkpointer a moment to start the
    /// log over by itself; once the log holds `logRestartFrames` frames the writer does, so the
    /// log file stays near that size however much is written (before, 420 MB for 100,000 tasks).
    @Test func theWriteAheadLogStaysBoundedUnderASteadyStreamOfWrites() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appending(path: "fetchq.db").path
            let store = try SQLiteStore(path: path, logger: .quiet, logRestartFrames: 256)
            let size = { (path: String) in (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            }
            var largest = 0
            for job in 0..<120 {
                let tasks = (0..<500).map {
                    sampleTask("http://a.test/\(job)/\($0)?\(String(repeating: "q", count: 200))")
                }
                _ = try await store.submit(NewJob(tasks: tasks, timeoutMillis: 1_000), now: 1)
                largest = max(largest, size(path + "-wal"))
            }
            // 60,000 tasks of about 300 bytes each went through the log: many times its bound.
            #expect(size(path) > 20 << 20)
            #expect(largest < 12 << 20, "the log reached \(largest) bytes")
        }
    }

    @Test func responseHeadersStoredByAnEarlierVersionStillRead() async throws {
        try await withTestStore { store, path in
            let submitted = try await store.submit(
                NewJob(tasks: [sampleTask("http://a.test/")], timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0)
            _ = try await store.record([
                AttemptResult(
                    seq: claimed[0].seq, attempt: 1, outcome: Outcome(statusCode: 200, headers: []),
                    disposition: .succeeded, body: nil, finishedAt: 3)
            ])
            // Before lists, response headers were stored as one JSON object.
            let database = try Database(path: path.path, mode: .readWrite)
            try database.execute(#"UPDATE tasks SET response_headers = '{"content-type":"text/plain","x-a":"1, 2"}'"#)
            #expect(
                try store.task(submitted.taskIDs[0])?.outcome?.headers == [
                    HeaderField("content-type", "text/plain"), HeaderField("x-a", "1, 2"),
                ])
        }
    }
}
