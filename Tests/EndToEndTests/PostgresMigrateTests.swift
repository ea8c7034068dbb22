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

    /// The versions of the files in `migrations/postgres/` (`0004_name.sql` is 4), in order: what a
    /// migrated database must have recorded, each once.
    private static let versions: [String] = {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appending(path: "../../migrations/postgres").standardizedFileURL
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".sql") }.compactMap { Int($0.prefix { $0.isNumber }) }.sorted()
            .map(String.init)
    }()

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
        #expect(first.outputText.contains("applied 1, 2, 3"))
        #expect(!first.outputText.contains("@127.0.0.1") || !url.contains(":@"), "no password printed")
        let second = try migrate([], environment: ["FETCHQ_DATABASE": url])
        #expect(second.termination == .exited(0), "\(second.errorText)")
        #expect(second.outputText.contains("up to date"))
        let tables = try server.query(
            url,
            "SELECT count(*) FROM information_schema.tables WHERE table_name IN"
                + " ('jobs', 'tasks', 'task_attempts', 'task_bodies', 'deliveries', 'nodes', 'leader')")
        #expect(tables == ["7"])
        #expect(Self.versions.count >= 8)
        #expect(try server.query(url, "SELECT version FROM schema_migrations ORDER BY version") == Self.versions)
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
        // Each migration was applied by exactly one of them (not always the same one).
        let applied = outputs.flatMap { output in
            output.0.components(separatedBy: "applied ").dropFirst().flatMap {
                $0.prefix { $0 != "\n" }.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            }
        }
        #expect(applied.sorted { Int($0) ?? 0 < Int($1) ?? 0 } == Self.versions, "\(outputs.map(\.0))")
        #expect(outputs.filter { $0.0.contains("up to date") }.count >= 2)
    }

    @Test func aMalformedURLStopsMigrateNamingTheSetting() throws {
        let run = try migrate(["--database", "postgres://127.0.0.1:5432"])
        #expect(run.termination != .exited(0))
        #expect(run.errorText.contains("--database"))
    }

    @Test func aWrongPasswordStopsServeNamingTheProblemButNotThePassword() throws {
        _ = try server.createDatabase("guarded")
        _ = try server.query(
            "postgres://fetchq@127.0.0.1:\(server.port)/guarded", "CREATE ROLE alice LOGIN PASSWORD 'right-one'")
        try server.requirePassword(database: "guarded", user: "alice")
        let run = try ChildProcess.run(
            .init(
                executable: try FetchqBinary.path,
                arguments: [
                    "serve", "--port", "0", "--database",
                    "postgres://alice:wrong-secret@127.0.0.1:\(server.port)/guarded",
                ],
                standardOutput: .pipe, standardError: .pipe))
        #expect(run.termination != .exited(0))
        let said = run.outputText + run.errorText
        #expect(said.contains("password authentication failed"), "\(said)")
        #expect(said.contains("alice@127.0.0.1"), "\(said)")
        #expect(!said.contains("wrong-secret"))
    }

    @Test func anUnreachableServerStopsServeNamingIt() throws {
        let port = try ClosedPort().port
        let run = try ChildProcess.run(
            .init(
                executable: try FetchqBinary.path,
                arguments: ["serve", "--port", "0", "--database", "postgres://fetchq:pw@127.0.0.1:\(port)/nothing"],
                standardOutput: .pipe, standardError: .pipe))
        #expect(run.termination != .exited(0))
        let said = run.outputText + run.errorText
        #expect(said.contains("127.0.0.1:\(port)"), "\(said)")
        #expect(!said.contains(":pw@"))
    }
}
