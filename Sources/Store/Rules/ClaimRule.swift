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

    /// A due task read as a candidate: its job only when some job has limits of its own.
    package struct Candidate {
        package let seq: Int64
        package let host: String
        package let jobSeq: Int64?

        package init(seq: Int64, host: String, jobSeq: Int64? = nil) {
            self.seq = seq
            self.host = host
            self.jobSeq = jobSeq
        }
    }

    /// Whether candidates must be read with their job (`Candidate.jobSeq`): some job known to the
    /// engine has limits of its own.
    package static func readsJobs(_ hosts: HostAllowance) -> Bool { !hosts.jobLimits.isEmpty }

    /// The columns a candidate is read from (`candidate(_:)`): its job only when `readsJobs`, since
    /// the due index does not hold it.
    package static func candidateColumns(_ hosts: HostAllowance) -> String {
        readsJobs(hosts) ? "seq, host, job_seq" : "seq, host, NULL"
    }

    package static func candidate(_ row: some RowReader) throws -> Candidate {
        Candidate(seq: try row.int64(0), host: try row.string(1), jobSeq: try row.optionalInt64(2))
    }

    /// From `candidates`, in claim order, the rows to claim: at most `limit`, per host no more than
    /// `left[host]` (or `defaultLimit` for a host not listed), and per job with limits of its own
    /// and host no more than `hosts.jobRemaining` (or the job's `inFlightLimit`).
    package static func choose(
        _ candidates: [Candidate], limit: Int, left: [String: Int], defaultLimit: Int,
        jobs hosts: HostAllowance = HostAllowance()
    ) -> [Int64] {
        var left = left
        var jobLeft = hosts.jobRemaining
        var chosen: [Int64] = []
        for candidate in candidates where chosen.count < limit {
            let allowance = left[candidate.host] ?? defaultLimit
            guard allowance > 0 else { continue }
            if let job = candidate.jobSeq, let limits = hosts.jobLimits[job] {
                let key = JobHostKey(jobSeq: job, host: candidate.host)
                let jobAllowance = jobLeft[key] ?? limits.inFlightLimit
                guard jobAllowance > 0 else { continue }
                jobLeft[key] = jobAllowance - 1
            }
            left[candidate.host] = allowance - 1
            chosen.append(candidate.seq)
        }
        return chosen
    }

    /// The columns a claim returns, in the order `claimed(_:)` reads them.
    package static let returning = """
        seq, id, job_seq, host, url, method, headers, body, timeout_ms, attempts, max_attempts,
        retry_base_ms, retry_max_ms, next_attempt_at, obey_robots, job_host_concurrency, job_host_interval_ms,
        decode_content
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
            dueAt: try row.int64(13), obeysRobots: try row.bool(14),
            jobHostLimits: JobHostLimits.unless(
                concurrency: try row.optionalInt(15), intervalMillis: try row.optionalInt(16)),
            decodeContent: try row.bool(17))
    }
}
