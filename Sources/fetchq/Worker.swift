import ArgumentParser
import Engine
import Logging

/// `fetchq worker`: started by `fetchq serve` only. Reads orders on stdin, writes results on stdout.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one worker process (started by `fetchq serve`; not for direct use).")

    @Option(help: "Requests in flight at once.")
    var concurrency: Int = 64

    @Option(help: "User-Agent sent when a task sets none.")
    var userAgent: String = "fetchq/\(Fetchq.version)"

    @Flag(help: "Connect to private and reserved addresses too.")
    var allowPrivateTargets = false

    @Option(help: "An address range to allow despite the guard (repeatable).")
    var allowCidr: [String] = []

    @Option(help: "Log level.")
    var logLevel: String = "info"

    func run() async throws {
        let logger = makeLogger(label: "fetchq.worker", level: Logger.Level(rawValue: logLevel) ?? .info)
        ignoreBrokenPipes()
        try await WorkerRuntime.run(
            configuration: WorkerConfiguration(
                concurrency: concurrency, userAgent: userAgent,
                destinations: DestinationGuard(
                    allowPrivateTargets: allowPrivateTargets, allowed: allowCidr.compactMap(DestinationGuard.CIDR.init))
            ),
            logger: logger)
    }
}
