import API
import ArgumentParser
import Engine
import Foundation
import Logging
import ServiceLifecycle
import Store

/// `fetchq serve`: the supervisor. API, store and engine in one process; workers as children.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the service: HTTP API, SQLite store, and the worker processes.",
        discussion: """
            Every option can also be set by the environment variable named beside it; a flag wins \
            over the variable, which wins over the default.
            """)

    @Option(help: "Address to listen on, an IP literal. (env: FETCHQ_HOST, default: 127.0.0.1)")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one. (env: FETCHQ_PORT, default: 8080)")
    var port: Int?

    @Option(help: "SQLite database file, created if missing. (env: FETCHQ_DB, default: ./fetchq.db)")
    var db: String?

    @Option(help: "Worker processes. (env: FETCHQ_PROCESSES, default: number of cores)")
    var processes: Int?

    @Option(help: "Requests in flight per worker process. (env: FETCHQ_CONCURRENCY, default: 64)")
    var concurrency: Int?

    @Option(
        help:
            "Response bytes kept per task; the rest is dropped and marked truncated. (env: FETCHQ_MAX_BODY_BYTES, default: 1048576)"
    )
    var maxBodyBytes: Int?

    @Option(help: "Per-task time limit when a job sets none, in ms. (env: FETCHQ_TIMEOUT_MS, default: 30000)")
    var timeoutMs: Int?

    @Option(help: "Attempts per task when a job sets none. (env: FETCHQ_MAX_ATTEMPTS, default: 3)")
    var maxAttempts: Int?

    @Option(help: "First retry backoff ceiling in ms; doubles per attempt. (env: FETCHQ_RETRY_BASE_MS, default: 1000)")
    var retryBaseMs: Int?

    @Option(help: "Longest wait between attempts in ms. (env: FETCHQ_RETRY_MAX_MS, default: 300000)")
    var retryMaxMs: Int?

    @Option(
        help:
            "Time in-flight fetches get to finish on SIGTERM/SIGINT, in ms. (env: FETCHQ_SHUTDOWN_GRACE_MS, default: 10000)"
    )
    var shutdownGraceMs: Int?

    @Option(
        help:
            "Requests in flight at once to one host[:port], across all workers. (env: FETCHQ_PER_HOST_CONCURRENCY, default: 8)"
    )
    var perHostConcurrency: Int?

    @Option(
        help:
            "Least time between two requests to one host[:port], in ms. (env: FETCHQ_PER_HOST_INTERVAL_MS, default: 0)")
    var perHostIntervalMs: Int?

    @Option(
        help:
            "Webhook signing secret, whsec_<base64>. (env: FETCHQ_WEBHOOK_SECRET, default: generated once and kept in the database; see `fetchq webhook-secret`)"
    )
    var webhookSecret: String?

    @Option(help: "Time limit of one webhook delivery attempt, in ms. (env: FETCHQ_WEBHOOK_TIMEOUT_MS, default: 15000)")
    var webhookTimeoutMs: Int?

    @Option(
        help:
            "Waits between webhook attempts in ms, comma-separated; after the last, a delivery fails. (env: FETCHQ_WEBHOOK_RETRY_SCHEDULE_MS, default: 5000,300000,1800000,7200000,18000000,36000000,36000000)"
    )
    var webhookRetryScheduleMs: String?

    @Option(help: "Webhook deliveries in flight at once. (env: FETCHQ_WEBHOOK_CONCURRENCY, default: 32)")
    var webhookConcurrency: Int?

    @Option(
        help:
            "Bearer token that opens /v1; several, comma-separated, for rotation. (env: FETCHQ_API_TOKEN, default: none)"
    )
    var apiToken: String?

    @Flag(
        help:
            "Listen on a non-loopback address without an API token (you accept that anyone who can reach it may use it). (env: FETCHQ_INSECURE_NO_AUTH=1)"
    )
    var insecureNoAuth = false

    @Flag(
        help:
            "Let tasks and callbacks reach loopback, private and reserved addresses (the SSRF guard is on by default). (env: FETCHQ_ALLOW_PRIVATE_TARGETS=1)"
    )
    var allowPrivateTargets = false

    @Option(
        help:
            "An address range to allow despite the guard, like 10.1.0.0/16; repeatable. (env: FETCHQ_ALLOW_CIDR, comma-separated)"
    )
    var allowCidr: [String] = []

    @Option(help: "HTTP server threads. (env: FETCHQ_HTTP_THREADS, default: 4)")
    var httpThreads: Int?

    @Option(help: "Connections open at once, all clients together. (env: FETCHQ_MAX_CONNECTIONS, default: 1024)")
    var maxConnections: Int?

    @Option(
        help:
            "Connections open at once from one client address; 0 means no limit. (env: FETCHQ_MAX_CONNECTIONS_PER_IP, default: 256)"
    )
    var maxConnectionsPerIp: Int?

    @Option(help: "Seconds an idle connection is kept open. (env: FETCHQ_CONNECTION_TIMEOUT_S, default: 30)")
    var connectionTimeoutS: Int?

    @Option(
        help:
            "Largest request body; larger ones get 413 unread. (env: FETCHQ_MAX_REQUEST_BYTES, default: 16777216)")
    var maxRequestBytes: Int?

    @Option(help: "Tasks in one job. (env: FETCHQ_MAX_TASKS_PER_JOB, default: 10000)")
    var maxTasksPerJob: Int?

    @Option(help: "Length of a task's URL in bytes. (env: FETCHQ_MAX_URL_BYTES, default: 8192)")
    var maxUrlBytes: Int?

    @Option(help: "Headers of one task. (env: FETCHQ_MAX_HEADERS_PER_TASK, default: 64)")
    var maxHeadersPerTask: Int?

    @Option(help: "Bytes of one task header, name and value. (env: FETCHQ_MAX_HEADER_BYTES, default: 8192)")
    var maxHeaderBytes: Int?

    @Option(help: "Bytes of one task's request body. (env: FETCHQ_MAX_TASK_BODY_BYTES, default: 1048576)")
    var maxTaskBodyBytes: Int?

    @Option(
        help: "Log level: trace, debug, info, notice, warning, error, critical. (env: FETCHQ_LOG_LEVEL, default: info)")
    var logLevel: String?

    func run() async throws {
        let configuration = try ServiceConfiguration(serve: self, environment: Environment())
        let logger = makeLogger(label: "fetchq", level: configuration.logLevel)
        ignoreBrokenPipes()
        let store = try Store(path: configuration.databasePath, logger: logger)
        logger.info("database ready", metadata: ["db.path": "\(configuration.databasePath)"])
        let engine = Engine(store: store, configuration: configuration.engine, logger: logger)
        var webhooks = configuration.webhooks
        if webhooks.secret.isEmpty {
            webhooks.secret = try await store.webhookSecret(orGenerate: WebhookSigner.generateSecret)
        }
        let dispatcher = try WebhookDispatcher(store: store, configuration: webhooks, logger: logger)
        let api = try APIService(
            configuration: configuration.http,
            api: FetchqAPI(store: store, engine: engine, configuration: configuration.api, logger: logger),
            logger: logger)
        // Started in this order, stopped in reverse: the engine first (it stops taking work, lets
        // fetches in flight finish, returns the rest to the queue and flushes every result) while
        // the API still answers reads and refuses submissions with 503; then the webhook
        // dispatcher (what it is still sending is made due again); then the HTTP server. The store
        // closes when all are done.
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: api), .init(service: dispatcher), .init(service: engine)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        logger.info("stopped")
    }
}

/// Everything `fetchq serve` needs, resolved once from flags, environment and defaults.
struct ServiceConfiguration {
    var http: HTTPServerConfiguration
    var engine: EngineConfiguration
    var webhooks: WebhookConfiguration
    var api: FetchqAPI.Configuration
    var databasePath: String
    var logLevel: Logger.Level

    init(serve: Serve, environment: Environment) throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        http = HTTPServerConfiguration(
            host: serve.host ?? environment.string("FETCHQ_HOST") ?? "127.0.0.1",
            port: try environment.resolve(serve.port, "FETCHQ_PORT", default: 8080, in: 0...65535),
            threads: try environment.resolve(serve.httpThreads, "FETCHQ_HTTP_THREADS", default: 4, in: 1...256),
            maxRequestBytes: try environment.resolve(
                serve.maxRequestBytes, "FETCHQ_MAX_REQUEST_BYTES", default: 16 << 20, in: 1024...(1 << 30)),
            connectionTimeoutSeconds: try environment.resolve(
                serve.connectionTimeoutS, "FETCHQ_CONNECTION_TIMEOUT_S", default: 30, in: 1...3_600),
            connectionLimit: try environment.resolve(
                serve.maxConnections, "FETCHQ_MAX_CONNECTIONS", default: 1_024, in: 1...65_536),
            perIPConnectionLimit: try environment.resolve(
                serve.maxConnectionsPerIp, "FETCHQ_MAX_CONNECTIONS_PER_IP", default: 256, in: 0...65_536))
        databasePath = serve.db ?? environment.string("FETCHQ_DB") ?? "./fetchq.db"
        let levelText = serve.logLevel ?? environment.string("FETCHQ_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else {
            throw ValidationError("unknown log level \(levelText)")
        }
        logLevel = level
        var engine = EngineConfiguration(
            processes: try environment.resolve(serve.processes, "FETCHQ_PROCESSES", default: cores, in: 1...256),
            concurrency: try environment.resolve(serve.concurrency, "FETCHQ_CONCURRENCY", default: 64, in: 1...4096),
            maxBodyBytes: try environment.resolve(
                serve.maxBodyBytes, "FETCHQ_MAX_BODY_BYTES", default: 1 << 20, in: 0...(64 << 20) - 4096),
            shutdownGraceMillis: try environment.resolve(
                serve.shutdownGraceMs, "FETCHQ_SHUTDOWN_GRACE_MS", default: 10_000, in: 0...3_600_000),
            retry: RetryPolicy(
                baseMillis: try environment.resolve(
                    serve.retryBaseMs, "FETCHQ_RETRY_BASE_MS", default: 1_000, in: 1...3_600_000),
                maxMillis: try environment.resolve(
                    serve.retryMaxMs, "FETCHQ_RETRY_MAX_MS", default: 300_000, in: 1...86_400_000)),
            workerExecutable: executablePath(),
            userAgent: "fetchq/\(Fetchq.version)")
        engine.workerLogLevel = level.rawValue
        let cidrTexts =
            serve.allowCidr.isEmpty
            ? (environment.string("FETCHQ_ALLOW_CIDR")?.split(separator: ",").map(String.init) ?? []) : serve.allowCidr
        var allowed: [DestinationGuard.CIDR] = []
        for text in cidrTexts {
            guard let cidr = DestinationGuard.CIDR(text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--allow-cidr \(text): expected an address range like 10.1.0.0/16")
            }
            allowed.append(cidr)
        }
        let destinations = DestinationGuard(
            allowPrivateTargets: serve.allowPrivateTargets || environment.flag("FETCHQ_ALLOW_PRIVATE_TARGETS"),
            allowed: allowed)
        engine.destinations = destinations
        engine.perHostConcurrency = try environment.resolve(
            serve.perHostConcurrency, "FETCHQ_PER_HOST_CONCURRENCY", default: 8, in: 1...100_000)
        engine.perHostIntervalMillis = try environment.resolve(
            serve.perHostIntervalMs, "FETCHQ_PER_HOST_INTERVAL_MS", default: 0, in: 0...3_600_000)
        self.engine = engine
        webhooks = WebhookConfiguration(
            secret: serve.webhookSecret ?? environment.string("FETCHQ_WEBHOOK_SECRET") ?? "",
            userAgent: "fetchq-webhooks/\(Fetchq.version)")
        if !webhooks.secret.isEmpty, WebhookSigner(secret: webhooks.secret) == nil {
            throw ValidationError("--webhook-secret must be whsec_ followed by base64 of 24 to 64 bytes")
        }
        webhooks.destinations = destinations
        webhooks.timeoutMillis = try environment.resolve(
            serve.webhookTimeoutMs, "FETCHQ_WEBHOOK_TIMEOUT_MS", default: 15_000, in: 1...600_000)
        webhooks.concurrency = try environment.resolve(
            serve.webhookConcurrency, "FETCHQ_WEBHOOK_CONCURRENCY", default: 32, in: 1...4096)
        if let schedule = serve.webhookRetryScheduleMs ?? environment.string("FETCHQ_WEBHOOK_RETRY_SCHEDULE_MS") {
            let waits = schedule.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !waits.isEmpty, waits.allSatisfy({ ($0 ?? -1) >= 0 }) else {
                throw ValidationError("--webhook-retry-schedule-ms must be comma-separated milliseconds")
            }
            webhooks.retryScheduleMillis = waits.compactMap { $0 }
        }
        var limits = SubmissionLimits()
        limits.maxTasks = try environment.resolve(
            serve.maxTasksPerJob, "FETCHQ_MAX_TASKS_PER_JOB", default: limits.maxTasks, in: 1...1_000_000)
        limits.maxURLBytes = try environment.resolve(
            serve.maxUrlBytes, "FETCHQ_MAX_URL_BYTES", default: limits.maxURLBytes, in: 64...(1 << 20))
        limits.maxHeadersPerTask = try environment.resolve(
            serve.maxHeadersPerTask, "FETCHQ_MAX_HEADERS_PER_TASK", default: limits.maxHeadersPerTask, in: 0...1_000)
        limits.maxHeaderBytes = try environment.resolve(
            serve.maxHeaderBytes, "FETCHQ_MAX_HEADER_BYTES", default: limits.maxHeaderBytes, in: 64...(1 << 20))
        limits.maxTaskBodyBytes = try environment.resolve(
            serve.maxTaskBodyBytes, "FETCHQ_MAX_TASK_BODY_BYTES", default: limits.maxTaskBodyBytes, in: 0...(64 << 20))
        api = FetchqAPI.Configuration(
            limits: limits,
            defaults: SubmissionDefaults(
                timeoutMillis: try environment.resolve(
                    serve.timeoutMs, "FETCHQ_TIMEOUT_MS", default: 30_000, in: 1...600_000),
                maxAttempts: try environment.resolve(serve.maxAttempts, "FETCHQ_MAX_ATTEMPTS", default: 3, in: 1...100)),
            destinations: destinations,
            apiTokens: (serve.apiToken ?? environment.string("FETCHQ_API_TOKEN") ?? "").split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        let loopback = ["127.0.0.1", "::1", "[::1]", "localhost"].contains(http.host) || http.host.hasPrefix("127.")
        if !loopback, api.apiTokens.isEmpty, !(serve.insecureNoAuth || environment.flag("FETCHQ_INSECURE_NO_AUTH")) {
            throw ValidationError(
                "refusing to listen on \(http.host) without --api-token; pass --insecure-no-auth to do it anyway")
        }
    }
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
