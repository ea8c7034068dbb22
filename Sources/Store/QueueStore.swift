import Foundation

/// What fetchq needs of a storage engine: one verb per state transition plus the reads the API
/// needs. `Store` (SQLite, one node) and `PostgresStore` (several nodes on one database) are the
/// two engines; the engine, the webhook dispatcher and the API see only this protocol.
///
/// The contract every engine keeps (the conformance suite in `Tests/StoreTests` checks it):
/// - A submission or an append is stored whole or not at all, and is durable before it returns.
/// - A task is claimed by one caller at a time: `running` under an attempt number (the token);
///   a result, a loss or a give-back for another attempt than the current one changes nothing.
/// - A task's `task.finished` delivery and its job's `job.finished` are created in the same
///   transaction as the change behind them, their payload already rendered.
/// - Times are epoch milliseconds, given by the caller (`now`), so tests can inject a clock.
public protocol QueueStore: Sendable {
    // MARK: Submitting

    /// Stores a job and its tasks in one transaction; with an idempotency key, a repeat of the
    /// same request answers the first outcome and stores nothing.
    func submit(_ job: NewJob, idempotency: Idempotency?, now: Int64) async throws -> SubmitOutcome
    /// Appends tasks to an open job, whole or not at all (`StoreError.notFound` / `.conflict`).
    func append(_ tasks: [NewTask], to id: JobID, idempotency: Idempotency?, now: Int64) async throws
        -> SubmitOutcome
    /// Closes an open job to appends.
    func seal(job id: JobID, now: Int64) async throws -> SealOutcome

    // MARK: Running tasks

    /// Records finished attempts, then claims up to `limit` due tasks within `hosts`' allowance,
    /// in one transaction. Answers, per result, whether it was recorded, and the tasks claimed.
    func recordAndClaim(
        _ results: [AttemptResult], limit: Int, now: Int64, leaseMarginMillis: Int, hosts: HostAllowance
    ) async throws -> (recorded: [Bool], claimed: [ClaimedTask])
    /// A lost worker's tasks back to the queue, the attempt counting (or failed on its last one).
    @discardableResult
    func returnLost(_ leases: [(seq: Int64, attempt: Int)], error: String, message: String, now: Int64)
        async throws -> Int
    /// Tasks given back unstarted (at shutdown, from a worker's queue, or held until their
    /// origin's robots.txt is known), due again at `dueAt`; the attempt does not count.
    @discardableResult
    func giveBack(_ leases: [(seq: Int64, attempt: Int)], now: Int64, dueAt: Int64) async throws -> Int
    /// Running tasks whose lease ran out before `now` back to the queue, the attempt counting.
    @discardableResult
    func rescueExpired(now: Int64, reason: String) async throws -> Int
    /// At start-up: every task this node (or, on SQLite, any earlier run) left running, back to the
    /// queue as a lost attempt, whatever its lease says.
    @discardableResult
    func rescueLeftRunning(now: Int64, reason: String) async throws -> Int

    // MARK: Changing jobs and tasks

    func cancel(job id: JobID, now: Int64) async throws -> Cancellation?
    func cancel(task id: TaskID, now: Int64) async throws -> Cancellation?
    /// Queues a failed or canceled task again; nil when there is no such task, false when it is
    /// in another state.
    func rerun(task id: TaskID, now: Int64) async throws -> Bool?
    func delete(job id: JobID) async throws -> JobDeletion
    /// Deletes up to `limit` jobs finished before `cutoff`; answers how many.
    func deleteExpired(finishedBefore cutoff: Int64, limit: Int) async throws -> Int

    // MARK: Pausing

    /// Pauses a job: its queued tasks, and any queued later, are held (not claimed) until it is
    /// resumed; running ones finish. Nil for an unknown job, `StoreError.conflict` for a completed
    /// one (`PauseRule`); pausing a paused job changes nothing. Answers the job as it is now.
    func pause(job id: JobID, now: Int64) async throws -> JobRecord?
    /// Resumes a job: its held tasks are claimable at once (each at its own `next_attempt_at`).
    func resume(job id: JobID, now: Int64) async throws -> JobRecord?
    /// Pauses `host` until `until` (replacing an earlier manual pause): no task of it is claimed
    /// before then, on any node sharing the store. The pause is stored: it survives a restart.
    func pause(host: String, until: Int64, now: Int64) async throws
    /// Ends a manual pause of `host` at once. A pause the host asked for itself (Retry-After) is
    /// kept until its own end.
    func resume(host: String) async throws
    /// The hosts paused at `now` (by hand, or on a shared store by a Retry-After any node saw),
    /// each with the end of its pause.
    func hostPauses(now: Int64) async throws -> [String: Int64]

    // MARK: Webhooks

    func webhookSecret(orGenerate generate: @escaping @Sendable () -> String) async throws -> String
    func claimDeliveries(limit: Int, now: Int64, leaseMillis: Int) async throws -> [DeliveryWork]
    func recordDeliveries(_ results: [DeliveryResult]) async throws
    func releaseDeliveries(_ leases: [(seq: Int64, attempt: Int)], now: Int64) async throws
    func redeliver(_ id: DeliveryID, now: Int64) async throws -> DeliveryRecord?

    // MARK: Reading

    func job(_ id: JobID) async throws -> JobRecord?
    /// The job once it is completed, or as it is when `timeout` has passed.
    func job(_ id: JobID, waitingUpTo timeout: Duration) async throws -> JobRecord?
    func jobs(state: JobState?, cursor: String?, limit: Int) async throws -> JobPage
    func tasks(of id: JobID, state: TaskState?, cursor: String?, limit: Int) async throws -> TaskPage?
    func task(_ id: TaskID) async throws -> TaskRecord?
    func body(of id: TaskID) async throws -> BodyLookup
    func totals() async throws -> StateCounts
    func deliveries(of id: JobID, cursor: String?, limit: Int) async throws -> DeliveryPage?
    /// Deliveries waiting for their first or next attempt, across jobs.
    func pendingDeliveries() async throws -> Int
    /// Per host with queued or running tasks: how many run and how many are due.
    func hostQueues(now: Int64) async throws -> [String: (running: Int, queuedDue: Int)]
    /// One page of a job's results in submit order: tasks with `after < seq <= last`.
    func results(ofJob jobSeq: Int64, state: TaskState?, after: Int64, last: Int64, limit: Int, bodies: Bool)
        async throws -> [ResultLine]
    func lastTaskSeq(ofJob jobSeq: Int64) async throws -> Int64
    func jobSeq(_ id: JobID) async throws -> Int64?

    /// The live nodes sharing this store, oldest first; empty for a store only one node uses.
    func nodes(now: Int64) async throws -> [NodeRecord]

    /// Whether the store takes writes now, for `/healthz` and the API's 503/507.
    var health: StoreHealth { get }
}

extension QueueStore {
    public func nodes(now: Int64) async throws -> [NodeRecord] { [] }

    public func submit(_ job: NewJob, now: Int64) async throws -> SubmittedJob {
        switch try await submit(job, idempotency: nil, now: now) {
        case .created(let stored): return stored
        case .replayed, .keyReused: preconditionFailure("a submission without a key is never a replay")
        }
    }

    public func claim(limit: Int, now: Int64, leaseMarginMillis: Int, hosts: HostAllowance = HostAllowance())
        async throws -> [ClaimedTask]
    {
        try await recordAndClaim([], limit: limit, now: now, leaseMarginMillis: leaseMarginMillis, hosts: hosts)
            .claimed
    }

    public func record(_ results: [AttemptResult]) async throws -> [Bool] {
        try await recordAndClaim(results, limit: 0, now: 0, leaseMarginMillis: 0, hosts: HostAllowance()).recorded
    }
}

extension QueueStore {
    /// Tasks given back unstarted, due again at once.
    @discardableResult
    public func giveBack(_ leases: [(seq: Int64, attempt: Int)], now: Int64) async throws -> Int {
        try await giveBack(leases, now: now, dueAt: now)
    }
}
