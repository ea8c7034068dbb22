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
        usage: "fetchq migrate [--db <path>] [--database <url>]",
        discussion: SettingsHelp.text(for: [Settings.table.db, Settings.table.database]))

    /// The settings as given on the command line; only `--db` and `--database` are taken.
    @Argument(parsing: .allUnrecognized, help: .private)
    var settings: [String] = []

    func run() async throws {
        let values = try SettingValues(arguments: settings, accepting: [Settings.table.db, Settings.table.database])
        let database = try values.value(\.database)
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
        let path = database.isEmpty ? try values.value(\.db) : database
        report(try SQLiteStore.migrate(path: path, logger: logger), at: path)
    }

    private func report(_ applied: [Int], at place: String) {
        print(
            applied.isEmpty
                ? "\(place): up to date" : "\(place): applied \(applied.map(String.init).joined(separator: ", "))")
    }
}
