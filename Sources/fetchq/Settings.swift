import ArgumentParser
import Engine
import Foundation
import Logging
import Store

/// Every setting of `fetchq serve`, each written once: flag, environment variable, default, the
/// values it takes, and help. ArgumentParser parses the flags and prints `--help` from these;
/// `SettingValues` falls back on the variables and the defaults; `ServiceConfiguration` reads them.
/// Adding a setting is one entry here plus the line that uses it. The settings other commands take
/// too (`fetchq migrate`'s `--db`, the worker's `--concurrency`) are written once below, as statics.
struct Settings: ParsableArguments, Sendable {
    @Option(
        .option(
            "--host", "FETCHQ_HOST", default: "127.0.0.1", valueName: "address",
            help: "Address to listen on, an IP literal.", parse: SettingValue.text))
    var host: Setting<String>
    @Option(
        .integer(
            "--port", "FETCHQ_PORT", default: 8080, in: 0...65_535, help: "Port to listen on; 0 picks a free one."))
    var port: Setting<Int>
    @Option(Settings.db) var db: Setting<String>
    @Option(Settings.database) var database: Setting<String>
    @Option(
        .integer(
            "--database-timeout-ms", "FETCHQ_DATABASE_TIMEOUT_MS", default: 10_000, in: 100...600_000,
            help: "On PostgreSQL: how long one transaction may wait for the database before the request"
                + " is answered 503 (the database is taken for unreachable)."))
    var databaseTimeoutMs: Setting<Int>
    @Option(
        .integer(
            "--node-lease-ttl-ms", "FETCHQ_NODE_LEASE_TTL_MS", default: 15_000, in: 1_000...600_000,
            help: "On PostgreSQL: how long a node may go without a heartbeat (sent every third of it) before"
                + " another node takes its running tasks back to the queue."))
    var nodeLeaseTtlMs: Setting<Int>
    @Option(
        .integer(
            "--processes", "FETCHQ_PROCESSES", default: ProcessInfo.processInfo.activeProcessorCount, in: 1...256,
            shown: "number of cores", help: "Worker processes."))
    var processes: Setting<Int>
    @Option(Settings.concurrency) var concurrency: Setting<Int>
    @Option(
        .integer(
            "--max-body-bytes", "FETCHQ_MAX_BODY_BYTES", default: 1 << 20, in: 0...(64 << 20) - 4_096,
            help: "Response bytes kept per task; the rest is dropped and marked truncated."))
    var maxBodyBytes: Setting<Int>
    @Option(
        .option(
            "--user-agent", "FETCHQ_USER_AGENT", default: Fetchq.userAgent, valueName: "text",
            help: "User-Agent header of every fetch whose task sets none.", parse: SettingValue.userAgent))
    var userAgent: Setting<String>
    @Option(
        .integer(
            "--timeout-ms", "FETCHQ_TIMEOUT_MS", default: 30_000, in: 1...600_000,
            help: "Per-task time limit when a job sets none, in ms."))
    var timeoutMs: Setting<Int>
    @Option(
        .integer(
            "--max-attempts", "FETCHQ_MAX_ATTEMPTS", default: 3, in: 1...100,
            help: "Attempts per task when a job sets none."))
    var maxAttempts: Setting<Int>
    @Option(
        .integer(
            "--retry-base-ms", "FETCHQ_RETRY_BASE_MS", default: 1_000, in: 1...3_600_000,
            help: "First retry backoff ceiling in ms; doubles per attempt."))
    var retryBaseMs: Setting<Int>
    @Option(
        .integer(
            "--retry-max-ms", "FETCHQ_RETRY_MAX_MS", default: 300_000, in: 1...86_400_000,
            help: "Longest wait between attempts in ms."))
    var retryMaxMs: Setting<Int>
    @Option(
        .integer(
            "--shutdown-grace-ms", "FETCHQ_SHUTDOWN_GRACE_MS", default: 10_000, in: 0...3_600_000,
            help: "Time in-flight fetches get to finish on SIGTERM/SIGINT, in ms."))
    var shutdownGraceMs: Setting<Int>
    @Option(
        .integer(
            "--per-host-concurrency", "FETCHQ_PER_HOST_CONCURRENCY", default: 8, in: 1...100_000,
            help: "Requests in flight at once to one host[:port], across all workers."))
    var perHostConcurrency: Setting<Int>
    @Option(
        .integer(
            "--per-host-interval-ms", "FETCHQ_PER_HOST_INTERVAL_MS", default: 0, in: 0...3_600_000,
            help: "Least time between two requests to one host[:port], in ms."))
    var perHostIntervalMs: Setting<Int>
    @Option(
        .option(
            "--adaptive-per-host", "FETCHQ_ADAPTIVE_PER_HOST", default: true, shown: "on", valueName: "on|off",
            help: "Whether a host's limit halves when it answers 429 or 503, times out or refuses connections, and"
                + " grows back by one per run of answers (--per-host-concurrency is the ceiling); off keeps it fixed.",
            parse: SettingValue.onOff))
    var adaptivePerHost: Setting<Bool>
    @Option(
        .option(
            "--robots-txt", "FETCHQ_ROBOTS_TXT", default: RobotsMode.ignore, valueName: "obey|ignore",
            help: "Whether a job that does not set robots_txt checks its GET and HEAD tasks against their"
                + " origin's robots.txt.", parse: SettingValue.robots))
    var robotsTxt: Setting<RobotsMode>
    @Option(
        .integer(
            "--robots-ttl-ms", "FETCHQ_ROBOTS_TTL_MS", default: 86_400_000, in: 1_000...604_800_000,
            help: "How long a node keeps an origin's robots.txt before fetching it again, in ms."))
    var robotsTtlMs: Setting<Int>
    @Option(
        .integer(
            "--robots-unavailable-ms", "FETCHQ_ROBOTS_UNAVAILABLE_MS", default: 600_000, in: 1_000...86_400_000,
            help: "How long obeying tasks wait for a robots.txt that fails (5xx, timeout, no connection) before"
                + " they fail with robots_unavailable, in ms."))
    var robotsUnavailableMs: Setting<Int>
    @Option(
        .integer(
            "--max-crawl-delay-ms", "FETCHQ_MAX_CRAWL_DELAY_MS", default: 30_000, in: 0...3_600_000,
            help: "The longest Crawl-delay of a robots.txt that fetchq honours, in ms."))
    var maxCrawlDelayMs: Setting<Int>
    @Option(
        .option(
            "--api-token", "FETCHQ_API_TOKEN", default: [], shown: "none", valueName: "tokens",
            help: "Bearer token that opens /v1; several, comma-separated, for rotation.", parse: SettingValue.tokens))
    var apiToken: Setting<[String]>
    @OptionGroup var insecureNoAuth: Toggle<InsecureNoAuth>
    @OptionGroup var allowPrivateTargets: Toggle<AllowPrivateTargets>
    @Option(Settings.allowCIDR) var allowCIDR: [Setting<[DestinationGuard.CIDR]>]
    @Option(
        .option(
            "--ca-file", "FETCHQ_CA_FILE", default: TrustRoots?.none, shown: "none", valueName: "path",
            help: "PEM file of certificate authorities trusted for fetches and webhook deliveries, on top of the"
                + " system's.", parse: { text throws(InvalidValue) in try SettingValue.trustRoots(text) }))
    var caFile: Setting<TrustRoots?>
    @Option(
        .option(
            "--webhook-secret", "FETCHQ_WEBHOOK_SECRET", default: String?.none,
            shown: "generated once and kept in the database", valueName: "secret",
            help: "Webhook signing secret, whsec_<base64>; `fetchq webhook-secret` prints the one kept.",
            parse: SettingValue.webhookSecret))
    var webhookSecret: Setting<String?>
    @Option(
        .integer(
            "--webhook-timeout-ms", "FETCHQ_WEBHOOK_TIMEOUT_MS", default: 15_000, in: 1...600_000,
            help: "Time limit of one webhook delivery attempt, in ms."))
    var webhookTimeoutMs: Setting<Int>
    @Option(
        .option(
            "--webhook-retry-schedule-ms", "FETCHQ_WEBHOOK_RETRY_SCHEDULE_MS",
            default: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
            shown: "5000,300000,1800000,7200000,18000000,36000000,36000000", valueName: "waits",
            help: "Waits between webhook attempts in ms, comma-separated; after the last, a delivery fails.",
            parse: SettingValue.waits))
    var webhookRetryScheduleMs: Setting<[Int]>
    @Option(
        .integer(
            "--webhook-concurrency", "FETCHQ_WEBHOOK_CONCURRENCY", default: 32, in: 1...4_096,
            help: "Webhook deliveries in flight at once."))
    var webhookConcurrency: Setting<Int>
    @Option(
        .integer(
            "--http-threads", "FETCHQ_HTTP_THREADS", default: 4, in: 1...256, help: "HTTP server threads."))
    var httpThreads: Setting<Int>
    @Option(
        .option(
            "--max-connections", "FETCHQ_MAX_CONNECTIONS", default: Int?.none, shown: "fits the open-files limit",
            accepted: "allowed: 1 to 1048576", valueName: "n",
            help: "Connections open at once, all clients together; more are closed at once. By default the"
                + " open-files limit (raised to its hard limit at start) less what the store, the workers and the"
                + " webhook client need.",
            parse: { text throws(InvalidValue) in try SettingValue.integer(text, in: 1...1_048_576) }))
    var maxConnections: Setting<Int?>
    @Option(
        .integer(
            "--max-connections-per-ip", "FETCHQ_MAX_CONNECTIONS_PER_IP", default: 256, in: 0...65_536,
            help: "Connections open at once from one client address; 0 means no limit."))
    var maxConnectionsPerIp: Setting<Int>
    @Option(
        .integer(
            "--connection-timeout-s", "FETCHQ_CONNECTION_TIMEOUT_S", default: 30, in: 1...3_600,
            help: "Seconds an idle connection is kept open."))
    var connectionTimeoutS: Setting<Int>
    @Option(
        .integer(
            "--header-timeout-s", "FETCHQ_HEADER_TIMEOUT_S", default: 10, in: 1...3_600,
            help: "Seconds a connection has to send its request line and headers, from its accept or from the end"
                + " of its previous response; then it is closed (408 when it can still be written)."))
    var headerTimeoutS: Setting<Int>
    @Option(
        .integer(
            "--min-body-rate", "FETCHQ_MIN_BODY_RATE", default: 1_024, in: 0...(1 << 30),
            help: "Bytes per second a request body must average after its first second, or its connection is"
                + " closed as by --header-timeout-s; 0 sets no floor."))
    var minBodyRate: Setting<Int>
    @Option(
        .integer(
            "--max-request-bytes", "FETCHQ_MAX_REQUEST_BYTES", default: 16 << 20, in: 1_024...(1 << 30),
            help: "Largest request body; larger ones get 413 unread."))
    var maxRequestBytes: Setting<Int>
    @Option(
        .integer(
            "--max-tasks-per-job", "FETCHQ_MAX_TASKS_PER_JOB", default: 10_000, in: 1...1_000_000,
            help: "Tasks in one job."))
    var maxTasksPerJob: Setting<Int>
    @Option(
        .integer(
            "--max-url-bytes", "FETCHQ_MAX_URL_BYTES", default: 8_192, in: 64...(1 << 20),
            help: "Length of a task's URL in bytes."))
    var maxUrlBytes: Setting<Int>
    @Option(
        .integer(
            "--max-headers-per-task", "FETCHQ_MAX_HEADERS_PER_TASK", default: 64, in: 0...1_000,
            help: "Headers of one task."))
    var maxHeadersPerTask: Setting<Int>
    @Option(
        .integer(
            "--max-header-bytes", "FETCHQ_MAX_HEADER_BYTES", default: 8_192, in: 64...(1 << 20),
            help: "Bytes of one task header, name and value."))
    var maxHeaderBytes: Setting<Int>
    @Option(
        .integer(
            "--max-task-body-bytes", "FETCHQ_MAX_TASK_BODY_BYTES", default: 1 << 20, in: 0...(64 << 20),
            help: "Bytes of one task's request body."))
    var maxTaskBodyBytes: Setting<Int>
    @Option(
        .option(
            "--retention", "FETCHQ_RETENTION", default: Int64(7 * 86_400_000), shown: "7d", valueName: "duration",
            help: "How long a finished job is kept (90s, 12h, 7d); then it is deleted with its tasks. 0 keeps all.",
            parse: SettingValue.duration))
    var retention: Setting<Int64>
    @Option(
        .option(
            "--metrics", "FETCHQ_METRICS", default: true, shown: "on", accepted: "on or off", valueName: "on|off",
            help: "Record the metrics GET /metrics shows; off records none (/metrics answers an empty page), to"
                + " measure what recording costs.", parse: SettingValue.onOff))
    var metrics: Setting<Bool>
    @Option(Settings.logLevel) var logLevel: Setting<Logger.Level>
}

extension Settings {
    static let db = Setting.option(
        "--db", "FETCHQ_DB", default: "./fetchq.db", valueName: "path",
        help: "SQLite database file, created if missing.", parse: SettingValue.text)
    static let database = Setting.option(
        "--database", "FETCHQ_DATABASE", default: "", shown: "the --db file", valueName: "url",
        help: "A postgres://user:password@host:port/database URL (several nodes share one queue), or a SQLite"
            + " file path (as --db).", parse: SettingValue.text)
    static let concurrency = Setting.integer(
        "--concurrency", "FETCHQ_CONCURRENCY", default: 64, in: 1...4_096,
        help: "Requests in flight per worker process.")
    static let allowCIDR = Setting.repeatable(
        "--allow-cidr", "FETCHQ_ALLOW_CIDR", valueName: "range",
        help: "An address range to allow despite the guard, like 10.1.0.0/16.", parse: SettingValue.addressRange)
    static let logLevel = Setting.option(
        "--log-level", "FETCHQ_LOG_LEVEL", default: Logger.Level.info, valueName: "level",
        help: "Log level: trace, debug, info, notice, warning, error, critical.", parse: SettingValue.logLevel)

    /// `--insecure-no-auth`.
    enum InsecureNoAuth: ToggleDefinition {
        static let setting = Setting.toggle(
            "--insecure-no-auth", "FETCHQ_INSECURE_NO_AUTH",
            help: "Listen on a non-loopback address without an API token (you accept that anyone who can reach"
                + " it may use it).")
    }

    /// `--allow-private-targets`.
    enum AllowPrivateTargets: ToggleDefinition {
        static let setting = Setting.toggle(
            "--allow-private-targets", "FETCHQ_ALLOW_PRIVATE_TARGETS",
            help: "Let tasks and callbacks reach loopback, private and reserved addresses (the SSRF guard is on"
                + " by default).")
    }
}
