import Robots
import Store

/// The node's view of robots.txt: per origin, whether it is being fetched, its rules, or how long it
/// has failed; and, for each obeying task the scheduler claimed, whether it may be sent. A plain
/// value owned by the scheduler, tested on a manual clock; the fetches themselves are I/O the
/// scheduler asks for (`fetch`) and reports back (`fetched`). Every worker of the node shares it, so
/// an origin's robots.txt is fetched at most once per `ttlMillis` however many tasks and workers.
struct RobotsGate {
    /// One origin.
    struct Entry: Equatable {
        /// The `host[:port]` the per-host limits and `/v1/hosts` know the origin by.
        let host: String
        var state: State
        /// When the last fetch ended (nil before the first).
        var fetchedAt: Int64?
        /// Set while a fetch is in flight.
        var fetching = false
    }

    enum State: Equatable {
        /// Not fetched yet.
        case unknown
        /// Its rules (a 2xx), or none (a 4xx): kept until `expiresAt`.
        case known(RobotsRules, allowAll: Bool, expiresAt: Int64)
        /// Failing since `since`; fetched again at `retryAt`.
        case unavailable(since: Int64, retryAt: Int64, failures: Int, reason: String)
    }

    /// What to do with one claimed task.
    enum Verdict: Equatable {
        /// Send it (`crawlDelayMillis`: the origin's Crawl-delay, capped).
        case send(crawlDelayMillis: Int?)
        /// Fail it: robots.txt disallows its path.
        case refuse(String)
        /// Give it back unstarted, due again at `until` (now, while a fetch is in flight).
        case wait(until: Int64)
        /// Fail it: robots.txt has been unavailable for longer than the policy's limit.
        case giveUp(String)
    }

    let policy: RobotsPolicy
    let productToken: String
    private(set) var entries: [String: Entry] = [:]
    /// Hosts with a robots.txt fetch in flight, and how many: the claim holds their tasks back
    /// meanwhile, so that they are not claimed only to be given back again.
    private(set) var hostsBeingFetched: [String: Int] = [:]
    /// The Crawl-delay of each host whose robots.txt set one (capped), for the per-host spacing.
    private(set) var crawlDelays: [String: Int] = [:]
    /// Counts the changes worth showing (a fetch begun or ended), so that the scheduler publishes
    /// the gate to the API only when it changed.
    private(set) var version = 0
    /// Origins whose robots.txt the scheduler must fetch, taken by `takeFetches()`.
    private var wanted: [(origin: String, host: String)] = []

    init(policy: RobotsPolicy, userAgent: String) {
        self.policy = policy
        self.productToken = RobotsTxt.productToken(fromUserAgent: userAgent)
    }

    /// Whether `task` must be checked at all: its job obeys, and it is a GET or a HEAD.
    static func applies(to task: ClaimedTask) -> Bool {
        task.obeysRobots && (task.request.method == "GET" || task.request.method == "HEAD")
    }

    /// The verdict for an obeying task at `now`; asks for a fetch when the origin's answer is
    /// missing or stale.
    mutating func check(_ task: ClaimedTask, now: Int64) -> Verdict {
        guard let target = RobotsTarget(url: task.request.url) else { return .send(crawlDelayMillis: nil) }
        var entry = entries[target.origin] ?? Entry(host: task.host, state: .unknown)
        switch entry.state {
        case .known(let rules, _, let expiresAt) where now < expiresAt || entry.fetching:
            guard rules.allows(path: target.path) else {
                return .refuse("robots.txt of \(target.origin) disallows \(target.path) for \(productToken)")
            }
            return .send(crawlDelayMillis: rules.crawlDelayMilliseconds.map { min($0, policy.maxCrawlDelayMillis) })
        case .unavailable(let since, let retryAt, _, let reason):
            if now - since >= Int64(policy.unavailableMillis) {
                return .giveUp("robots.txt of \(target.origin) unavailable for \(now - since) ms: \(reason)")
            }
            if entry.fetching { return .wait(until: now) }
            guard now >= retryAt else { return .wait(until: retryAt) }
        case .unknown, .known:
            if entry.fetching { return .wait(until: now) }
        }
        entry.fetching = true
        entries[target.origin] = entry
        version += 1
        hostsBeingFetched[task.host, default: 0] += 1
        wanted.append((target.origin, task.host))
        return .wait(until: now)
    }

    /// The fetches asked for since the last call.
    mutating func takeFetches() -> [(origin: String, host: String)] {
        defer { wanted = [] }
        return wanted
    }

    /// Records a fetch's answer.
    mutating func fetched(_ origin: String, _ answer: RobotsAnswer, now: Int64) {
        guard var entry = entries[origin], entry.fetching else { return }
        entry.fetching = false
        let left = (hostsBeingFetched[entry.host] ?? 1) - 1
        hostsBeingFetched[entry.host] = left > 0 ? left : nil
        entry.fetchedAt = now
        let expiresAt = now + Int64(policy.ttlMillis)
        switch answer {
        case .rules(let rules):
            entry.state = .known(rules, allowAll: false, expiresAt: expiresAt)
            crawlDelays[entry.host] = rules.crawlDelayMilliseconds.map { min($0, policy.maxCrawlDelayMillis) }
        case .allowAll: entry.state = .known(RobotsRules(), allowAll: true, expiresAt: expiresAt)
        case .unavailable(let reason):
            let (since, failures) =
                if case .unavailable(let since, _, let failures, _) = entry.state { (since, failures + 1) } else {
                    (now, 1)
                }
            entry.state = .unavailable(
                since: since, retryAt: now + policy.retryDelayMillis(failures: failures), failures: failures,
                reason: reason)
        }
        entries[origin] = entry
        version += 1
    }

    /// Forgets origins whose answer expired with no fetch in flight: the state is bounded by the
    /// origins seen within the TTL.
    mutating func prune(now: Int64) {
        entries = entries.filter { _, entry in
            if entry.fetching { return true }
            switch entry.state {
            case .unknown: return false
            case .known(_, _, let expiresAt): return now < expiresAt
            case .unavailable(let since, _, _, _): return now - since < Int64(policy.unavailableMillis) * 2
            }
        }
        version += 1
        let kept = Set(entries.values.map(\.host))
        crawlDelays = crawlDelays.filter { kept.contains($0.key) }
    }

    /// Each host's robots.txt as `GET /v1/hosts` shows it (the latest of its origins).
    func byHost() -> [String: HostRobots] {
        var hosts: [String: HostRobots] = [:]
        for entry in entries.values {
            let view: HostRobots
            switch entry.state {
            case .unknown: view = HostRobots(state: nil, fetchedAt: nil, crawlDelayMillis: nil)
            case .known(let rules, let allowAll, _):
                view = HostRobots(
                    state: allowAll ? .allowed : .rules, fetchedAt: entry.fetchedAt,
                    crawlDelayMillis: rules.crawlDelayMilliseconds.map { min($0, policy.maxCrawlDelayMillis) })
            case .unavailable:
                view = HostRobots(state: .unavailable, fetchedAt: entry.fetchedAt, crawlDelayMillis: nil)
            }
            if let kept = hosts[entry.host], (kept.fetchedAt ?? 0) > (view.fetchedAt ?? 0) { continue }
            hosts[entry.host] = view
        }
        return hosts
    }
}
