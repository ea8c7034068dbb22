import ArgumentParser
import Engine
import Logging
import Store
import StoreSQLite

/// `fetchq webhook-secret`: prints the service's webhook signing secret (generating it if needed).
struct WebhookSecret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook-secret",
        abstract: "Print the webhook signing secret kept in the database (created on first use).",
        discussion: "A secret given with --webhook-secret or FETCHQ_WEBHOOK_SECRET to `serve` wins over this one.")

    @Option(Settings.db) var db: Setting<String>

    func run() async throws {
        let path = try db.value(in: Environment())
        let logger = Logger(label: "fetchq", factory: { _ in SwiftLogNoOpLogHandler() })
        let store = try SQLiteStore(path: path, logger: logger)
        print(try await store.webhookSecret(orGenerate: WebhookSigner.generateSecret))
    }
}
