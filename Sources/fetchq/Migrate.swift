import ArgumentParser
import Logging
import Store

/// `fetchq migrate`: applies pending migrations and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations and exit.",
        usage: "fetchq migrate [--db <path>]",
        discussion: SettingsHelp.text(for: [Settings.table.db]))

    /// The settings as given on the command line; only `--db` is taken.
    @Argument(parsing: .allUnrecognized, help: .private)
    var settings: [String] = []

    func run() async throws {
        let path = try SettingValues(arguments: settings, accepting: [Settings.table.db]).value(\.db)
        let logger = makeLogger(label: "fetchq", level: .info)
        let applied = try Store.migrate(path: path, logger: logger)
        print(
            applied.isEmpty
                ? "\(path): up to date" : "\(path): applied \(applied.map(String.init).joined(separator: ", "))")
    }
}
