import Engine
import HTTPServer
import JSON
import Store

extension FetchqAPI {
    /// How far back `recent` counts a host's attempts.
    static let recentWindowMillis: Int64 = 5 * 60_000

    /// `GET /v1/hosts`: every host with queued or running tasks or seen in the last hour, busiest
    /// (in flight plus due) first, then by name.
    func listHosts(_ query: [String: String]) async throws -> HTTPResponse {
        let limit = try pageLimit(query)
        let offset = try query["cursor"].map(HostCursor.offset) ?? 0
        let records = try await hostRecords(now: clock.wallMillis())
        let sorted = records.values.sorted {
            ($0.inFlight + $0.queuedDue, $1.host) > ($1.inFlight + $1.queuedDue, $0.host)
        }
        let page = Array(sorted.dropFirst(offset).prefix(limit))
        let next = offset + page.count < sorted.count ? HostCursor.cursor(offset + page.count) : nil
        return .json(200, Representation.hosts(HostPage(hosts: page, nextCursor: next)))
    }

    /// One host as `GET /v1/hosts` shows it, listed or not.
    func hostRecord(_ host: String) async throws -> HostRecord {
        try await hostRecords(now: clock.wallMillis(), including: host)[host] ?? HostRecord(host: host)
    }

    /// Every host with queued or running tasks, seen lately, or paused (and `including`), from the
    /// store's queues and pauses and the engine's last view.
    private func hostRecords(now: Int64, including: String? = nil) async throws -> [String: HostRecord] {
        let queues = try await store.hostQueues(now: now)
        let pauses = try await store.hostPauses(now: now)
        return status.read { snapshot -> [String: HostRecord] in
            var records: [String: HostRecord] = [:]
            for (host, queue) in queues {
                var entry = HostRecord(host: host)
                entry.queuedDue = queue.queuedDue
                entry.inFlight = queue.running
                records[host] = entry
            }
            for host in snapshot.trackedHosts + pauses.keys + [including].compactMap({ $0 }) where records[host] == nil
            {
                records[host] = HostRecord(host: host)
            }
            for (host, activity) in snapshot.activity
            where now - activity.lastSeenAt < EngineStatus.activityWindowMillis {
                var entry = records[host] ?? HostRecord(host: host)
                entry.lastStatus = activity.lastStatus
                entry.lastError = activity.lastError
                (entry.recentSucceeded, entry.recentFailed, entry.recentRetried) = activity.recent(
                    since: now - Self.recentWindowMillis)
                entry.latencyP50Millis = activity.latencyMillis(percentile: 0.5)
                entry.latencyP95Millis = activity.latencyMillis(percentile: 0.95)
                records[host] = entry
            }
            for (host, var entry) in records {
                entry.pausedUntil = [snapshot.host(host, now: now).pausedUntil, pauses[host]].compactMap { $0 }.max()
                entry.limit = snapshot.limit(of: host)
                entry.maxLimit = snapshot.perHostLimit
                entry.robots = snapshot.robots[host]
                records[host] = entry
            }
            return records
        }
    }

    /// Why a queued task waits: its job's pause, its own time, its host's pause (`hostPauses`, as
    /// the store has them, or the engine's last view), its host's limit or the slots; nil for a
    /// task that is not queued, or that nothing holds back (the engine's next pass claims it).
    func waiting(_ task: TaskRecord, hostPauses: [String: Int64]) -> Waiting? {
        guard task.state == .queued else { return nil }
        if task.held { return Waiting(.jobPaused) }
        let now = clock.wallMillis()
        let checked = task.obeysRobots && (task.request.method == "GET" || task.request.method == "HEAD")
        if checked, let robots = status.read({ $0.robots[task.host] }), robots.state != .allowed,
            robots.state != .rules
        {
            // Its origin's robots.txt is being fetched, or failing (the task is due again when it is
            // fetched next).
            return Waiting(.robotsTxt, until: task.nextAttemptAt.flatMap { $0 > now ? $0 : nil })
        }
        if let due = task.nextAttemptAt, due > now { return Waiting(.dueTime, until: due) }
        return status.read { snapshot in
            let host = snapshot.host(task.host, now: now)
            if let pausedUntil = [host.pausedUntil, hostPauses[task.host]].compactMap({ $0 }).max() {
                return Waiting(.hostPaused, until: pausedUntil)
            }
            if host.full { return Waiting(.hostLimit) }
            return snapshot.freeSlots <= 0 ? Waiting(.capacity) : nil
        }
    }
}
