import API
import ArgumentParser
import Engine
import Foundation
import HTTPServer
import Logging

/// Everything `fetchq serve` needs, resolved once from its settings (flags, environment, defaults).
struct ServiceConfiguration {
    var http: HTTPServerConfiguration
    var engine: EngineConfiguration
    var webhooks: WebhookConfiguration
    var api: FetchqAPI.Configuration
    var database: DatabaseLocation
    /// On PostgreSQL: how long a node may miss heartbeats before its tasks are rescued, in ms.
    var nodeLeaseTTLMillis: Int
    /// On PostgreSQL: the longest one store call may take, in ms.
    var databaseTimeoutMillis: Int
    /// How long finished jobs are kept, in ms; 0 keeps them all.
    var retentionMillis: Int64
    /// Whether metrics are recorded (`--metrics on`) or every one goes nowhere (`off`).
    var recordsMetrics: Bool
    var logLevel: Logger.Level

    /// `openFiles` is the open-files limit the default `--max-connections` must fit in (`serve`
    /// raises it first).
    init(_ settings: SettingValues, openFiles: Int = OpenFilesLimit.current) throws {
        let fittingConnections = OpenFilesLimit.connectionBudget(
            openFiles: openFiles, processes: try settings.value(\.processes),
            webhookConcurrency: try settings.value(\.webhookConcurrency))
        http = HTTPServerConfiguration(
            host: try settings.value(\.host),
            port: try settings.value(\.port),
            threads: try settings.value(\.httpThreads),
            maxRequestBytes: try settings.value(\.maxRequestBytes),
            connectionTimeoutSeconds: try settings.value(\.connectionTimeoutS),
            headerTimeoutSeconds: try settings.value(\.headerTimeoutS),
            minBodyRate: try settings.value(\.minBodyRate),
            connectionLimit: try settings.value(\.maxConnections) ?? fittingConnections,
            perIPConnectionLimit: try settings.value(\.maxConnectionsPerIp))
        database = try DatabaseLocation(database: try settings.value(\.database), db: try settings.value(\.db))
        nodeLeaseTTLMillis = try settings.value(\.nodeLeaseTtlMs)
        databaseTimeoutMillis = try settings.value(\.databaseTimeoutMs)
        logLevel = try settings.value(\.logLevel)
        retentionMillis = try settings.value(\.retention)
        recordsMetrics = try settings.value(\.metrics)
        let destinations = DestinationGuard(
            allowPrivateTargets: try settings.value(\.allowPrivateTargets), allowed: try settings.value(\.allowCIDR))
        let trustRoots = try settings.value(\.caFile)
        engine = EngineConfiguration(
            processes: try settings.value(\.processes),
            concurrency: try settings.value(\.concurrency),
            maxBodyBytes: try settings.value(\.maxBodyBytes),
            shutdownGraceMillis: try settings.value(\.shutdownGraceMs),
            retry: RetryPolicy(
                baseMillis: try settings.value(\.retryBaseMs), maxMillis: try settings.value(\.retryMaxMs)),
            perHostConcurrency: try settings.value(\.perHostConcurrency),
            perHostIntervalMillis: try settings.value(\.perHostIntervalMs),
            destinations: destinations,
            trustRoots: trustRoots,
            workerExecutable: executablePath(),
            userAgent: try settings.value(\.userAgent),
            workerLogLevel: logLevel.rawValue,
            robots: RobotsPolicy(
                ttlMillis: try settings.value(\.robotsTtlMs),
                unavailableMillis: try settings.value(\.robotsUnavailableMs),
                maxCrawlDelayMillis: try settings.value(\.maxCrawlDelayMs)),
            adaptivePerHost: try settings.value(\.adaptivePerHost))
        webhooks = WebhookConfiguration(
            secret: try settings.value(\.webhookSecret) ?? "",
            timeoutMillis: try settings.value(\.webhookTimeoutMs),
            retryScheduleMillis: try settings.value(\.webhookRetryScheduleMs),
            concurrency: try settings.value(\.webhookConcurrency),
            userAgent: "fetchq-webhooks/\(Fetchq.version)",
            destinations: destinations,
            trustRoots: trustRoots)
        var limits = SubmissionLimits()
        limits.maxTasks = try settings.value(\.maxTasksPerJob)
        limits.maxURLBytes = try settings.value(\.maxUrlBytes)
        limits.maxHeadersPerTask = try settings.value(\.maxHeadersPerTask)
        limits.maxHeaderBytes = try settings.value(\.maxHeaderBytes)
        limits.maxTaskBodyBytes = try settings.value(\.maxTaskBodyBytes)
        api = FetchqAPI.Configuration(
            limits: limits,
            defaults: SubmissionDefaults(
                timeoutMillis: try settings.value(\.timeoutMs), maxAttempts: try settings.value(\.maxAttempts),
                robots: try settings.value(\.robotsTxt)),
            destinations: destinations,
            apiTokens: try settings.value(\.apiToken))
        // Read before it is needed, so that a bad FETCHQ_INSECURE_NO_AUTH stops even a loopback service.
        let insecureNoAuth = try settings.value(\.insecureNoAuth)
        let loopback = ["127.0.0.1", "::1", "[::1]", "localhost"].contains(http.host) || http.host.hasPrefix("127.")
        if !loopback, api.apiTokens.isEmpty, !insecureNoAuth {
            throw ValidationError(
                "refusing to listen on \(http.host) without --api-token; pass --insecure-no-auth to do it anyway")
        }
    }
}
