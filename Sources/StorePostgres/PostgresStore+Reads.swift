import Foundation
import PostgresNIO
import Store

// The reads the API needs, each on a pooled connection outside a transaction.

extension PostgresStore {
    public func job(_ id: JobID) async throws -> JobRecord? {
        try await read { [self] connection in try await PostgresJobRow.job(id: id, on: connection, logger: logger) }
    }

    /// The job once it is completed, or as it is when `timeout` has passed: woken by this node's
    /// writes, and re-read at least every `pollMillis` for changes other nodes make.
    public func job(_ id: JobID, waitingUpTo timeout: Duration) async throws -> JobRecord? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let seen = commits.count
            guard let job = try await job(id) else { return nil }
            if job.state == .completed || ContinuousClock.now >= deadline || Task.isCancelled { return job }
            let wake = min(deadline, ContinuousClock.now + .milliseconds(Self.pollMillis))
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.commits.wait(after: seen) }
                group.addTask { try? await Task.sleep(until: wake) }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// How often a long poll re-reads a job that another node may be finishing.
    static let pollMillis = 500

    public func jobs(state: JobState?, cursor: String?, limit: Int) async throws -> JobPage {
        let before = try cursor.map(Cursor.decode) ?? Int64.max
        let filter =
            switch state {
            case .pending?: "AND (n_queued + n_running > 0 OR open)"
            case .completed?: "AND n_queued + n_running = 0 AND NOT open"
            case nil: ""
            }
        return try await read { [self] connection in
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL: "\(JobRow.select) WHERE seq < $1 \(filter) ORDER BY seq DESC LIMIT $2",
                    binds: binds(before, limit + 1)), logger: logger
            ).map(JobRow.read)
            let page = Array(rows.prefix(limit))
            let next = rows.count > limit ? page.last.map { Cursor.encode($0.seq) } : nil
            return JobPage(jobs: page.map(\.record), nextCursor: next)
        }
    }

    public func tasks(of id: JobID, state: TaskState?, cursor: String?, limit: Int) async throws -> TaskPage? {
        let after = try cursor.map(Cursor.decode) ?? 0
        return try await read { [self] connection in
            guard let jobSeq = try await Self.jobSeq(id, on: connection, logger: logger) else { return nil }
            var bindings = binds(jobSeq, after, limit + 1)
            var filter = ""
            if let state {
                filter = "AND t.state = $4"
                bindings.append(state.rawValue)
            }
            let rows = try await connection.query(
                PostgresQuery(
                    unsafeSQL:
                        "\(TaskRow.select) WHERE t.job_seq = $1 AND t.seq > $2 \(filter) ORDER BY t.seq LIMIT $3",
                    binds: bindings), logger: logger
            ).map(TaskRow.read)
            let page = Array(rows.prefix(limit))
            let next = rows.count > limit ? page.last.map { Cursor.encode($0.seq) } : nil
            return TaskPage(
                tasks: try await PostgresTaskRow.withAttempts(page, on: connection, logger: logger), nextCursor: next)
        }
    }

    public func task(_ id: TaskID) async throws -> TaskRecord? {
        try await read { [self] connection in
            guard
                let found = try await connection.query(
                    PostgresQuery(unsafeSQL: "\(TaskRow.select) WHERE t.id = $1", binds: binds(id.rawValue)),
                    logger: logger
                ).first(TaskRow.read)
            else { return nil }
            return try await PostgresTaskRow.withAttempts([found], on: connection, logger: logger).first
        }
    }

    public func body(of id: TaskID) async throws -> BodyLookup {
        try await read { [self] connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "\(BodyRow.select) WHERE t.id = $1", binds: binds(id.rawValue)), logger: logger
            ).first(BodyRow.read) ?? .noTask
        }
    }

    public func totals() async throws -> StateCounts {
        try await read { [self] connection in
            try await connection.query(
                """
                SELECT coalesce(sum(n_queued), 0)::bigint, coalesce(sum(n_running), 0)::bigint,
                       coalesce(sum(n_succeeded), 0)::bigint, coalesce(sum(n_failed), 0)::bigint,
                       coalesce(sum(n_canceled), 0)::bigint
                FROM jobs
                """, logger: logger
            ).first { try StateCounts($0, from: 0) } ?? StateCounts()
        }
    }

    public func hostQueues(now: Int64) async throws -> [String: (running: Int, queuedDue: Int)] {
        try await read { [self] connection in
            var queues: [String: (running: Int, queuedDue: Int)] = [:]
            for (host, running, due) in try await connection.query(
                """
                SELECT host, count(*) FILTER (WHERE state = 'running'),
                       count(*) FILTER (WHERE state = 'queued' AND next_attempt_at <= \(now))
                FROM tasks WHERE state IN ('queued', 'running') GROUP BY host
                """, logger: logger
            ).map({ (try $0.string(0), try $0.int(1), try $0.int(2)) }) {
                queues[host] = (running, due)
            }
            return queues
        }
    }

    public func results(
        ofJob jobSeq: Int64, state: TaskState?, after: Int64, last: Int64, limit: Int, bodies: Bool
    ) async throws -> [ResultLine] {
        let join = bodies ? "LEFT JOIN task_bodies b ON b.task_seq = t.seq" : ""
        var bindings = binds(jobSeq, after, limit, last)
        if let state { bindings.append(state.rawValue) }
        let (filter, values) = (state == nil ? "" : "AND t.state = $5", bindings)
        return try await read { [self] connection in
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(ResultRow.columns(bodies: bodies))
                        FROM tasks t \(join)
                        WHERE t.job_seq = $1 AND t.seq > $2 AND t.seq <= $4 \(filter) ORDER BY t.seq LIMIT $3
                        """, binds: values), logger: logger
            ).map {
                try ResultRow.read($0, bodies: bodies, engine: .postgres)
            }
        }
    }

    public func lastTaskSeq(ofJob jobSeq: Int64) async throws -> Int64 {
        try await read { [self] connection in
            try await connection.query(
                "SELECT coalesce(max(seq), 0)::bigint FROM tasks WHERE job_seq = \(jobSeq)", logger: logger
            ).first({ try $0.int64(0) }) ?? 0
        }
    }

    public func jobSeq(_ id: JobID) async throws -> Int64? {
        try await read { [self] connection in try await Self.jobSeq(id, on: connection, logger: logger) }
    }
}
