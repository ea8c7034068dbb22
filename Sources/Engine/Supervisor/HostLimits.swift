import Store

/// Per-host politeness: how many requests each host has in flight, when it may next be sent one,
/// and how long it asked to be left alone (a 429 or 503 with `Retry-After`). A plain value, owned
/// by the scheduler and tested without I/O.
struct HostLimits {
    private struct Host {
        var inFlight = 0
        /// No new request to this host before this time (interval, or Retry-After pause).
        var notBefore: Int64 = 0
        /// The end of the last Retry-After pause (0 for none).
        var pausedUntil: Int64 = 0
    }

    /// One host as the engine sees it now, for reads that ask why work waits.
    struct Status: Equatable {
        var inFlight = 0
        /// Set while a Retry-After pause lasts.
        var pausedUntil: Int64?
        /// Whether the host may take another request now (slots and interval).
        var full = false
    }

    /// The ceiling of every host's limit (`--per-host-concurrency`).
    let concurrency: Int
    let intervalMillis: Int
    /// Whether a host's limit adapts (`--adaptive-per-host`); else it is the ceiling.
    let adaptive: Bool
    private var hosts: [String: Host] = [:]
    /// Hosts whose limit is below the ceiling, or changed within the last `adaptiveMemoryMillis`.
    private(set) var adapted: [String: AdaptiveLimit] = [:]
    /// Limits changed since the last `takeLimitChanges()`, for a store that shares them.
    private var limitChanges: [String: Int] = [:]
    /// How long a host's adapted limit is remembered after its last change.
    static let adaptiveMemoryMillis: Int64 = 3_600_000
    /// Hosts whose robots.txt asks for a Crawl-delay (ms): one request at a time, started at
    /// least that far apart (or `intervalMillis`, if longer).
    var crawlDelays: [String: Int] = [:]

    init(concurrency: Int, intervalMillis: Int, adaptive: Bool = false) {
        self.concurrency = concurrency
        self.intervalMillis = intervalMillis
        self.adaptive = adaptive
    }

    /// The host's limit now: adapted, or the ceiling.
    func limit(of host: String) -> Int { adapted[host]?.current ?? concurrency }

    /// An attempt to `host` ended: `overloaded` when it showed the host cannot keep up (a 429, a
    /// 503, a timeout, a connection failure). Answers whether the host's limit went down.
    mutating func observed(_ host: String, overloaded: Bool, latencyMillis: Int, now: Int64) -> Bool {
        guard adaptive else { return false }
        guard overloaded else {
            guard var limit = adapted[host] else { return false }
            let before = limit.current
            limit.answered(now: now)
            adapted[host] = limit
            if limit.current != before { limitChanges[host] = limit.current }
            return false
        }
        var limit = adapted[host] ?? AdaptiveLimit(ceiling: concurrency, now: now)
        let decreased = limit.overloaded(latencyMillis: latencyMillis, now: now)
        adapted[host] = limit
        if decreased { limitChanges[host] = limit.current }
        return decreased
    }

    /// The limits changed since the last call, by host.
    mutating func takeLimitChanges() -> [String: Int] {
        defer { limitChanges = [:] }
        return limitChanges
    }

    /// What each host may still take now, for `Store.claim`.
    func allowance(now: Int64) -> HostAllowance {
        var remaining: [String: Int] = [:]
        var paused: [String: Int64] = [:]
        for (name, host) in hosts {
            var left = now < host.notBefore ? 0 : limit(of: name) - host.inFlight
            if intervalMillis > 0 || crawlDelays[name] != nil { left = min(left, 1) }
            remaining[name] = max(0, left)
            if host.pausedUntil > now { paused[name] = host.pausedUntil }
        }
        for (name, limit) in adapted where hosts[name] == nil && limit.current < concurrency {
            remaining[name] = limit.current
        }
        for name in crawlDelays.keys where hosts[name] == nil { remaining[name] = min(1, limit(of: name)) }
        return HostAllowance(
            defaultLimit: intervalMillis > 0 ? min(1, concurrency) : concurrency, remaining: remaining,
            pausedUntil: paused)
    }

    mutating func started(_ host: String, now: Int64) {
        var entry = hosts[host] ?? Host()
        entry.inFlight += 1
        let interval = max(intervalMillis, crawlDelays[host] ?? 0)
        if interval > 0 { entry.notBefore = max(entry.notBefore, now + Int64(interval)) }
        hosts[host] = entry
    }

    mutating func finished(_ host: String, now: Int64) {
        guard var entry = hosts[host] else { return }
        entry.inFlight = max(0, entry.inFlight - 1)
        if entry.inFlight == 0 && entry.notBefore <= now {
            hosts[host] = nil
        } else {
            hosts[host] = entry
        }
    }

    /// A host's state at `now` (a host not tracked has nothing in flight and no pause).
    func status(of name: String, now: Int64) -> Status {
        guard let host = hosts[name] else { return Status() }
        return Status(
            inFlight: host.inFlight, pausedUntil: host.pausedUntil > now ? host.pausedUntil : nil,
            full: host.inFlight >= limit(of: name) || now < host.notBefore)
    }

    /// Hosts with something in flight or a pause, by name.
    var tracked: [String] { Array(hosts.keys) }

    /// The host asked for a pause: nothing more is sent to it before `until`.
    mutating func pause(_ host: String, until: Int64) {
        var entry = hosts[host] ?? Host()
        entry.notBefore = max(entry.notBefore, until)
        entry.pausedUntil = max(entry.pausedUntil, until)
        hosts[host] = entry
    }

    /// Forgets hosts with nothing in flight whose pause is over.
    mutating func prune(now: Int64) {
        hosts = hosts.filter { $0.value.inFlight > 0 || $0.value.notBefore > now }
        adapted = adapted.filter { now - $0.value.changedAt < Self.adaptiveMemoryMillis || hosts[$0.key] != nil }
    }
}
