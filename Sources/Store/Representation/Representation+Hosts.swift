import JSON

extension Representation {
    /// One entry of `GET /v1/hosts`.
    public static func host(_ host: HostRecord) -> JSONValue {
        .object([
            ("host", .string(host.host)), ("in_flight", .integer(host.inFlight)), ("limit", .integer(host.limit)),
            ("max_limit", .integer(host.maxLimit)),
            ("queued_due", .integer(host.queuedDue)), ("paused_until", timestamp(host.pausedUntil)),
            ("last_status", .optional(host.lastStatus)), ("last_error", .optional(host.lastError)),
            (
                "recent",
                .object([
                    ("succeeded", .integer(host.recentSucceeded)), ("failed", .integer(host.recentFailed)),
                    ("retried", .integer(host.recentRetried)),
                ])
            ),
            ("latency_ms_p50", .optional(host.latencyP50Millis)), ("latency_ms_p95", .optional(host.latencyP95Millis)),
            (
                "robots",
                .object([
                    ("state", .optional(host.robots?.state?.rawValue)),
                    ("fetched_at", timestamp(host.robots?.fetchedAt)),
                    ("crawl_delay_ms", .optional(host.robots?.crawlDelayMillis)),
                ])
            ),
        ])
    }

    public static func hosts(_ page: HostPage) -> JSONValue {
        .object([("hosts", .array(page.hosts.map(host))), ("next_cursor", .optional(page.nextCursor))])
    }
}
