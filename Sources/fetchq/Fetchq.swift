import ArgumentParser
import Foundation
import Spawn

/// The `fetchq` command: one binary for the service, its workers and its maintenance.
@main
struct Fetchq: AsyncParsableCommand {
    static let version = "0.1.0"
    /// Sent by workers when a task sets no User-Agent of its own.
    static let userAgent = "fetchq/\(version)"

    static let configuration = CommandConfiguration(
        abstract: "A job queue that performs batches of HTTP requests and calls back when they finish.",
        version: version,
        subcommands: [
            Serve.self, Migrate.self, WebhookSecret.self, Worker.self, Submit.self, Wait.self, Status.self, Jobs.self,
            Cancel.self, Retry.self, Results.self, Pause.self, Resume.self,
        ],
        defaultSubcommand: nil
    )

    /// Started by a process that asked for it (a supervisor starting a worker, a test starting a
    /// service), fetchq dies with that process instead of living on as an orphan.
    static func main() async {
        if ParentDeath.arm() == .parentGone {
            FileHandle.standardError.write(Data("fetchq: the process that started this one has ended; exiting\n".utf8))
            Foundation.exit(1)
        }
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
