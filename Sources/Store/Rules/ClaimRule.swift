/// How due tasks are claimed, on every engine: the order, how many candidates to read, and which
/// of them a host's allowance lets through. A driver only runs the queries.
package enum ClaimRule {
    /// The claim order: higher priority first, then submit order. A retried task keeps its place
    /// among its priority's tasks (it was submitted before the tasks behind it).
    package static let order = "priority DESC, seq"

    /// How many candidate rows to read for `limit` claims: `limit` when no host can hold any back,
    /// else more, so that tasks of hosts at their limit do not hide the others'.
    package static func window(limit: Int, constrained: Bool, defaultLimit: Int) -> Int {
        !constrained && defaultLimit >= limit ? limit : max(limit * 4, 256)
    }

    /// From `candidates`, in claim order, the rows to claim: at most `limit`, and per host no more
    /// than `left[host]` (or `defaultLimit` for a host not listed).
    package static func choose(
        _ candidates: [(seq: Int64, host: String)], limit: Int, left: [String: Int], defaultLimit: Int
    ) -> [Int64] {
        var left = left
        var chosen: [Int64] = []
        for candidate in candidates where chosen.count < limit {
            let allowance = left[candidate.host] ?? defaultLimit
            guard allowance > 0 else { continue }
            left[candidate.host] = allowance - 1
            chosen.append(candidate.seq)
        }
        return chosen
    }

    /// The columns a claim returns, in the order `claimed(_:)` reads them.
    package static let returning = """
        seq, id, job_seq, host, url, method, headers, body, timeout_ms, attempts, max_attempts,
        retry_base_ms, retry_max_ms, next_attempt_at, obey_robots
        """

    /// A claimed task from a row of `returning`'s columns.
    @inlinable
    package static func claimed(_ row: some RowReader) throws -> ClaimedTask {
        ClaimedTask(
            seq: try row.int64(0), id: TaskID(trusted: try row.string(1)), jobSeq: try row.int64(2),
            host: try row.string(3),
            request: FetchRequest(
                url: try row.string(4), method: try row.string(5), headers: HeaderCoding.decode(try row.string(6)),
                body: try row.bytes(7)),
            timeoutMillis: try row.int(8), attempt: try row.int(9), maxAttempts: try row.int(10),
            retryBaseMillis: try row.optionalInt(11), retryMaxMillis: try row.optionalInt(12),
            dueAt: try row.int64(13), obeysRobots: try row.bool(14))
    }
}
