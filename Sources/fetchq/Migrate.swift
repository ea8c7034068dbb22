import ArgumentParser
import Logging
import Store

/// `fetchq migrate`: applies pending migrations and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")

    @Option(help: "SQLite database file. (env: FETCHQ_DB, default: ./fetchq.db)")
    var db: String?

    func run() async throws {
        let logger = makeLogger(label: "fetchq", level: .info)
        let path = db ?? Environment().string("FETCHQ_DB") ?? "./fetchq.db"
        let applied = try Store.migrate(path: path, logger: logger)
        print(
            applied.isEmpty
                ? "\(path): up to date" : "\(path): applied \(applied.map(String.init).joined(separator: ", "))")
    }
}
