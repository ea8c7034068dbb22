import API
import ArgumentParser
import CoreMetrics
import Engine
import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import Store
import StorePostgres
import StoreSQLite

/// `fetchq serve`: the supervisor. API, store and engine in one process; workers as children.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the service: HTTP API, store (SQLite, or PostgreSQL shared by several nodes), and the workers.",
        discussion: """
            Each setting can also be set by the environment variable named beside it; a flag wins over the \
            variable, which wins over the default.
            """)

    @OptionGroup var settings: Settings

    func run() async throws {
        // Raised first, so that the default --max-connections fits the limit as raised.
        let openFiles = OpenFilesLimit.raise()
        let configuration = try ServiceConfiguration(
            SettingValues(settings), openFiles: openFiles)
        let logger = makeLogger(label: "fetchq", level: configuration.logLevel)
        logger.info(
            "connection capacity",
            metadata: [
                "files.limit": "\(openFiles)", "http.max_connections": "\(configuration.http.connectionLimit)",
                "http.max_connections_per_ip": "\(configuration.http.perIPConnectionLimit)",
            ])
        ignoreBrokenPipes()
        // One registry for the whole service, handed to each part (no global `MetricsSystem`).
        // With `--metrics off` every metric is made by the no-op factory and the registry stays empty.
        let registry = PrometheusCollectorRegistry()
        let factory: any MetricsFactory =
            configuration.recordsMetrics ? metricsFactory(registry) : NOOPMetricsHandler.instance
        switch configuration.database {
        case .sqlite(let path):
            let store = try SQLiteStore(path: path, logger: logger, metrics: factory)
            logger.info("database ready", metadata: ["db.path": "\(path)"])
            try await serve(store, configuration, registry: registry, factory: factory, logger: logger)
        case .postgres(let location):
            let node = NodeIdentity(
                id: "node_\(String(UInt64.random(in: 0...UInt64.max), radix: 16))",
                // Unique among live nodes: host name and port, or the pid when the port is picked
                // at random (a node restarted under the same label takes back what its predecessor
                // left running, at once).
                host: configuration.http.port == 0
                    ? "\(ProcessInfo.processInfo.hostName) pid \(getpid())"
                    : "\(ProcessInfo.processInfo.hostName):\(configuration.http.port)",
                workers: configuration.engine.processes)
            let store = PostgresStore(
                location: location, node: node, logger: logger, metrics: factory,
                leaseTTLMillis: configuration.nodeLeaseTTLMillis,
                deadline: .milliseconds(configuration.databaseTimeoutMillis))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await store.run() }
                defer { group.cancelAll() }
                try await store.start(now: WallClock.nowMillis())
                logger.info(
                    "database ready",
                    metadata: [
                        "db.url": "\(location)", "node.id": "\(node.id)",
                        "node.lease_ttl_ms": "\(configuration.nodeLeaseTTLMillis)",
                    ])
                try await serve(
                    store, configuration, registry: registry, factory: factory, logger: logger,
                    wakeUps: store.workArrived)
                // Stopped cleanly (every task given back): the cluster need not wait for the TTL.
                await store.leave()
            }
        }
        logger.info("stopped")
    }

    /// Runs the API, engine, webhook dispatcher and retention sweeper on `store` until a signal
    /// stops them. `wakeUps` (PostgreSQL's `NOTIFY`) tells the engine that another node queued work.
    private func serve(
        _ store: any QueueStore, _ configuration: ServiceConfiguration, registry: PrometheusCollectorRegistry,
        factory: any MetricsFactory, logger: Logger, wakeUps: AsyncStream<Void>? = nil
    ) async throws {
        let engineMetrics = EngineMetrics(factory: factory)
        let engine = Engine(store: store, configuration: configuration.engine, logger: logger, metrics: engineMetrics)
        var webhooks = configuration.webhooks
        if webhooks.secret.isEmpty {
            webhooks.secret = try await store.webhookSecret(orGenerate: WebhookSigner.generateSecret)
        }
        let sweeper = RetentionSweeper(store: store, retentionMillis: configuration.retentionMillis, logger: logger)
        let dispatcher = try WebhookDispatcher(
            store: store, configuration: webhooks, logger: logger, metrics: engineMetrics)
        let api = try APIService(
            configuration: configuration.http,
            api: FetchqAPI(
                store: store, engine: engine, configuration: configuration.api, logger: logger,
                metrics: APIMetrics(registry: registry, factory: factory)),
            logger: logger)
        // Started in this order, stopped in reverse: the engine first (it stops taking work, lets
        // fetches in flight finish, returns the rest to the queue and flushes every result) while
        // the API still answers reads and refuses submissions with 503; then the webhook
        // dispatcher (what it is still sending is made due again); then the HTTP server. The store
        // closes when all are done. The retention sweeper, started first, stops last: it only ever
        // deletes finished jobs, which nothing else is using.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: sweeper), .init(service: api), .init(service: dispatcher), .init(service: engine),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        if let wakeUps {
            try await withThrowingTaskGroup(of: Void.self) { wakers in
                wakers.addTask { for await _ in wakeUps { engine.wake() } }
                defer { wakers.cancelAll() }
                try await group.run()
            }
        } else {
            try await group.run()
        }
    }
}

/// The factory every metric of `fetchq serve` is made with: Prometheus histograms, with buckets
/// that fit what each one measures (a writer's commit takes about a millisecond; a task may wait
/// in the queue for minutes).
func metricsFactory(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
    var factory = PrometheusMetricsFactory(registry: registry)
    factory.durationHistogramBuckets["fetchq_store_write_seconds"] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
    ]
    factory.durationHistogramBuckets["fetchq_queue_wait_seconds"] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5),
        .seconds(30), .seconds(60), .seconds(300), .seconds(1_800), .seconds(3_600),
    ]
    return factory
}

/// This binary's own path, so workers run exactly the same build.
func executablePath() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

func makeLogger(label: String, level: Logger.Level) -> Logger {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    return Logger(label: label)
}

/// A write to a dead worker's pipe must fail with EPIPE, not kill the supervisor. Children inherit it.
func ignoreBrokenPipes() {
    signal(SIGPIPE, SIG_IGN)
}
