import ArgumentParser
import Logging
import Store
import StorePostgres
import StoreSQLite

/// `fetchq migrate`: applies pending migrations and exits. `--database postgres://…` migrates a
/// PostgreSQL database (the second engine's schema); otherwise the SQLite file of `--db`.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations and exit.",
        discussion: "Each setting can also be set by the environment variable named beside it; a flag wins.")

    @Option(Settings.db) var db: Setting<String>
    @Option(Settings.database) var database: Setting<String>

    func run() async throws {
        let environment = Environment()
        let database = try database.value(in: environment)
        let db = try db.value(in: environment)
        let logger = makeLogger(label: "fetchq", level: .info)
        if PostgresLocation.isPostgres(database) {
            let location: PostgresLocation
            do {
                location = try PostgresLocation(url: database)
            } catch {
                throw ValidationError("invalid value for --database / FETCHQ_DATABASE: \(error)")
            }
            let applied = try await PostgresMigrator.migrate(location, logger: logger)
            report(applied, at: "\(location)")
            return
        }
        let path = database.isEmpty ? db : database
        report(try SQLiteStore.migrate(path: path, logger: logger), at: path)
    }

    private func report(_ applied: [Int], at place: String) {
        print(
            applied.isEmpty
                ? "\(place): up to date" : "\(place): applied \(applied.map(String.init).joined(separator: ", "))")
    }
}
