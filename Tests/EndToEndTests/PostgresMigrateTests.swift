import Foundation
import Spawn
import TestSupport
import Testing

/// `fetchq migrate --database postgres://…` against a real PostgreSQL server: the second engine's
/// schema, applied once, by one node at a time.
@Suite(.serialized) final class PostgresMigrateTests {
    let server: PostgresServer

    init() throws { server = try PostgresServer.start() }

    deinit { server.stop() }

    private func migrate(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess.Completed {
        try ChildProcess.run(
            .init(
                executable: try FetchqBinary.path, arguments: ["migrate"] + arguments,
                environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, standardOutput: .pipe,
                standardError: .pipe))
    }

    @Test func theSchemaIsAppliedOnceThenUpToDate() throws {
        let url = try server.createDatabase()
        let first = try migrate(["--database", url])
        #expect(first.termination == .exited(0), "\(first.errorText)")
        #expect(first.outputText.contains("applied 1"))
        #expect(!first.outputText.contains("@127.0.0.1") || !url.contains(":@"), "no password printed")
        let second = try migrate([], environment: ["FETCHQ_DATABASE": url])
        #expect(second.termination == .exited(0), "\(second.errorText)")
        #expect(second.outputText.contains("up to date"))
        let tables = try server.query(
            url,
            "SELECT count(*) FROM information_schema.tables WHERE table_name IN"
                + " ('jobs', 'tasks', 'task_attempts', 'task_bodies', 'deliveries', 'nodes', 'leader')")
        #expect(tables == ["7"])
        #expect(try server.query(url, "SELECT version FROM schema_migrations") == ["1"])
    }

    @Test func nodesMigratingAtOnceTakeTurns() throws {
        let url = try server.createDatabase()
        let children = try (0..<4).map { _ in
            try ChildProcess.spawn(
                .init(
                    executable: try FetchqBinary.path, arguments: ["migrate", "--database", url],
                    standardOutput: .pipe, standardError: .null))
        }
        let outputs = children.map { child in
            (String(decoding: (try? child.standardOutput?.readToEnd()) ?? [], as: UTF8.self), child.waitUntilExit())
        }
        #expect(outputs.allSatisfy { $0.1 == .exited(0) })
        #expect(outputs.filter { $0.0.contains("applied 1") }.count == 1, "\(outputs.map(\.0))")
        #expect(outputs.filter { $0.0.contains("up to date") }.count == 3)
    }

    @Test func aMalformedURLStopsMigrateNamingTheSetting() throws {
        let run = try migrate(["--database", "postgres://127.0.0.1:5432"])
        #expect(run.termination != .exited(0))
        #expect(run.errorText.contains("--database"))
    }

    @Test func serveRefusesPostgresUntilItRunsOnIt() throws {
        let url = try server.createDatabase()
        let run = try ChildProcess.run(
            .init(
                executable: try FetchqBinary.path, arguments: ["serve", "--port", "0", "--database", url],
                standardError: .pipe))
        #expect(run.termination != .exited(0))
        #expect(run.errorText.contains("does not run on PostgreSQL yet"))
    }
}
