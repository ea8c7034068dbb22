import ArgumentParser
import Engine
import Logging

/// `fetchq worker`: started by `fetchq serve` only. Reads orders on stdin, writes results on stdout.
/// Its options are given by the supervisor, not read from the environment; their values are read
/// (and refused) as `serve`'s settings of the same names are.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one worker process (started by `fetchq serve`; not for direct use).")

    @Option(help: "Requests in flight at once.", transform: { try Settings.concurrency.read([$0]) })
    var concurrency = Settings.concurrency.defaultValue

    @Option(help: "User-Agent sent when a task sets none.")
    var userAgent = Fetchq.userAgent

    @Flag(help: "Connect to private and reserved addresses too.")
    var allowPrivateTargets = false

    @Option(
        help: "An address range to allow despite the guard (repeatable).",
        transform: { try Settings.allowCIDR.read([$0]) })
    var allowCidr: [[DestinationGuard.CIDR]] = []

    @Option(
        help: "PEM file of certificate authorities trusted on top of the system's.",
        transform: { text throws(InvalidValue) in try SettingValue.trustRoots(text) })
    var caFile: TrustRoots?

    @Option(help: "Longest an order may wait queued for a free slot before it is handed back, in ms.")
    var maxQueueMs = 5_000

    @Option(help: "Log level.", transform: { try Settings.logLevel.read([$0]) })
    var logLevel = Settings.logLevel.defaultValue

    func run() async throws {
        let logger = makeLogger(label: "fetchq.worker", level: logLevel)
        ignoreBrokenPipes()
        try await WorkerRuntime.run(
            configuration: WorkerConfiguration(
                concurrency: concurrency, userAgent: userAgent,
                destinations: DestinationGuard(
                    allowPrivateTargets: allowPrivateTargets, allowed: allowCidr.flatMap { $0 }),
                trustRoots: caFile, maxQueueMillis: max(1, maxQueueMs)),
            logger: logger)
    }

}
