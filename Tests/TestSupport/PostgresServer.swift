import Foundation
import Spawn

/// A real PostgreSQL server for the tests, from Debian's `postgresql` package: its own data
/// directory in a temporary folder, listening on 127.0.0.1 on a free port, with `trust`
/// authentication for the superuser `fetchq`. PostgreSQL refuses to run as root, so as root it runs
/// as the `postgres` user. `initdb` takes seconds: start one server per suite and give each test a
/// database of its own (`createDatabase`). `stop()` ends it and removes its files.
///
/// `pg_ctl` daemonizes the server, so it does not die with the test process: a test run that
/// crashes leaves it running until the machine's next clean-up (its data is in /tmp).
public final class PostgresServer: Sendable {
    public let port: Int
    private let directory: URL
    private let binaries: String
    private let asRoot: Bool

    private init(port: Int, directory: URL, binaries: String, asRoot: Bool) {
        self.port = port
        self.directory = directory
        self.binaries = binaries
        self.asRoot = asRoot
    }

    /// Creates a cluster and starts it; throws with PostgreSQL's own words when it cannot.
    public static func start() throws -> PostgresServer {
        let binaries = try installedBinaries()
        let directory = FileManager.default.temporaryDirectory.appending(path: "fetchq-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let asRoot = getuid() == 0
        if asRoot { try run("/bin/chown", ["postgres:postgres", directory.path], asRoot: false) }
        let data = directory.appending(path: "data").path
        try run(
            "\(binaries)/initdb", ["-D", data, "-A", "trust", "-U", "fetchq", "--no-sync", "-E", "UTF8"],
            asRoot: asRoot)
        let port = try ClosedPort().port  // freed here, taken by the server a moment later
        try run(
            "\(binaries)/pg_ctl",
            [
                "-D", data, "-l", directory.appending(path: "server.log").path, "-w", "-t", "60", "-o",
                options(port: port, directory: directory),
                "start",
            ], asRoot: asRoot)
        return PostgresServer(port: port, directory: directory, binaries: binaries, asRoot: asRoot)
    }

    /// A new, empty database; answers its `postgres://` URL.
    public func createDatabase(_ name: String = "fetchq_\(UInt32.random(in: 0...UInt32.max))") throws -> String {
        try Self.run(
            "\(binaries)/createdb", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "fetchq", name], asRoot: asRoot)
        return "postgres://fetchq@127.0.0.1:\(port)/\(name)"
    }

    /// Runs one SQL statement with `psql`; answers its rows, one per line, columns split by `|`.
    public func query(_ url: String, _ sql: String) throws -> [String] {
        let run = try ChildProcess.run(
            .init(
                executable: "\(binaries)/psql", arguments: [url, "-Atc", sql], standardOutput: .pipe,
                standardError: .pipe))
        guard run.termination == .exited(0) else { throw ServiceProcessError("psql: \(run.errorText)") }
        return run.outputText.split(separator: "\n").map(String.init)
    }

    /// Stops the server at once and removes its files.
    public func stop() {
        try? Self.run(
            "\(binaries)/pg_ctl", ["-D", directory.appending(path: "data").path, "-m", "immediate", "stop"],
            asRoot: asRoot)
        try? FileManager.default.removeItem(at: directory)
    }

    /// The server's settings: loopback only, its own port and socket directory, no fsync (tests).
    private static func options(port: Int, directory: URL) -> String {
        "-c listen_addresses=127.0.0.1 -p \(port) -k \(directory.path) -c fsync=off -c synchronous_commit=off"
            + " -c max_connections=200"
    }

    /// Makes `user` log in to `database` with a password (everyone else stays on `trust`).
    public func requirePassword(database: String, user: String) throws {
        let file = directory.appending(path: "data/pg_hba.conf")
        let rules = try String(contentsOf: file, encoding: .utf8)
        try ("host \(database) \(user) 127.0.0.1/32 scram-sha-256\n" + rules).write(
            to: file, atomically: false, encoding: .utf8)
        try Self.run("\(binaries)/pg_ctl", ["-D", directory.appending(path: "data").path, "reload"], asRoot: asRoot)
    }

    /// Stops the server (as a crash would: `immediate`), keeping its files, until `restart()`.
    public func halt() throws {
        try Self.run(
            "\(binaries)/pg_ctl", ["-D", directory.appending(path: "data").path, "-m", "immediate", "stop"],
            asRoot: asRoot)
    }

    /// Starts a halted server again on the same port.
    public func restart() throws {
        try Self.run(
            "\(binaries)/pg_ctl",
            [
                "-D", directory.appending(path: "data").path, "-l", directory.appending(path: "server.log").path, "-w",
                "-t", "60", "-o", Self.options(port: port, directory: directory), "start",
            ], asRoot: asRoot)
    }

    /// The newest installed server's binaries, `/usr/lib/postgresql/N/bin`.
    private static func installedBinaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init)
        guard let newest = versions.max(), FileManager.default.isExecutableFile(atPath: "\(root)/\(newest)/bin/initdb")
        else {
            throw ServiceProcessError("no PostgreSQL server in \(root): install Debian's postgresql (make test does)")
        }
        return "\(root)/\(newest)/bin"
    }

    private static func run(_ executable: String, _ arguments: [String], asRoot: Bool) throws {
        let configuration = ChildProcess.Configuration(
            executable: asRoot ? "/usr/sbin/runuser" : executable,
            arguments: asRoot ? ["-u", "postgres", "--", executable] + arguments : arguments,
            standardOutput: .pipe, standardError: .standardOutput, newProcessGroup: true)
        let run = try ChildProcess.run(configuration)
        guard run.termination == .exited(0) else {
            throw ServiceProcessError("\(executable) \(arguments.joined(separator: " ")): \(run.outputText)")
        }
    }
}
