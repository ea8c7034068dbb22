import ArgumentParser
import Foundation

/// The `fetchq` command: one binary for the service, its workers and its maintenance.
@main
struct Fetchq: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        abstract: "A job queue that performs batches of HTTP requests and calls back when they finish.",
        version: version,
        subcommands: [Serve.self, Migrate.self, WebhookSecret.self, Worker.self],
        defaultSubcommand: nil
    )
}
