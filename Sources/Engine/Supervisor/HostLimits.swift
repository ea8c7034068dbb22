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

    let concurrency: Int
    let intervalMillis: Int
    private var hosts: [String: Host] = [:]
    /// Hosts whose robots.txt asks for a Crawl-delay (ms): one request at a time, started at
    /// least that far apart (or `intervalMillis`, if longer).
    var crawlDelays: [String: Int] = [:]

    init(concurrency: Int, intervalMillis: Int) {
        self.concurrency = concurrency
        self.intervalMillis = intervalMillis
    }

    /// What each host may still take now, for `Store.claim`.
    func allowance(now: Int64) -> HostAllowance {
        var remaining: [String: Int] = [:]
        var paused: [String: Int64] = [:]
        for (name, host) in hosts {
            var left = now < host.notBefore ? 0 : concurrency - host.inFlight
            if intervalMillis > 0 || crawlDelays[name] != nil { left = min(left, 1) }
            remaining[name] = max(0, left)
            if host.pausedUntil > now { paused[name] = host.pausedUntil }
        }
        for name in crawlDelays.keys where hosts[name] == nil { remaining[name] = min(1, concurrency) }
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
            full: host.inFlight >= concurrency || now < host.notBefore)
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
    }
}
