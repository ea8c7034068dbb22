import NIOConcurrencyHelpers
import Store

// Submissions: a job and all its tasks stored durably, or nothing.

extension SQLiteStore {
    /// Stores a job unless its idempotency key was already used: then answers the original
    /// response (same request) or `keyReused` (a different one), storing nothing.
    ///
    /// Submissions that arrive while the writer is busy are committed together, each inside its own
    /// savepoint: one durable commit (one fsync) for all of them, and a submission that fails rolls
    /// back alone. Each caller is answered only after that commit.
    public func submit(_ job: NewJob, idempotency: Idempotency?, now: Int64) async throws -> SubmitOutcome {
        try await enqueue(job, into: nil, idempotency: idempotency, now: now)
    }

    /// Queues `job` (a new job, or tasks for the open job `into`) for the next group commit.
    func enqueue(_ job: NewJob, into: JobID?, idempotency: Idempotency?, now: Int64) async throws -> SubmitOutcome {
        try await withCheckedThrowingContinuation { continuation in
            let submission = PendingSubmission(
                job: job, into: into, idempotency: idempotency, now: now, continuation: continuation)
            if submissions.add(submission) { scheduleCommit() }
        }
    }

    /// Most tasks one group commit takes: a burst of big jobs is committed in several groups, so the
    /// engine's own writes (queued on the same writer) wait for one group at most, not the burst.
    static let groupCommitTasks = 10_000

    /// Queues a commit of the waiting submissions on the writer; a commit that leaves some waiting
    /// (over `groupCommitTasks`) queues the next one behind whatever else the writer has to do.
    private func scheduleCommit() {
        writer.enqueue { writer in
            let (batch, more) = self.submissions.take(maxTasks: Self.groupCommitTasks)
            Self.commit(batch, writer: writer, storage: self.storage)
            if more { self.scheduleCommit() }
        }
    }

    /// Stores the waiting submissions in one transaction, each in a savepoint, and answers each.
    private static func commit(_ batch: [PendingSubmission], writer: WriterState, storage: StorageHealth) {
        var outcomes: [Result<SubmitOutcome, any Error>] = []
        outcomes.reserveCapacity(batch.count)
        do {
            try writer.db.transaction {
                for submission in batch {
                    try writer.db.execute("SAVEPOINT submission")
                    do {
                        outcomes.append(
                            .success(
                                try submit(
                                    submission.job, into: submission.into, idempotency: submission.idempotency,
                                    now: submission.now, writer: writer)))
                        try writer.db.execute("RELEASE submission")
                    } catch {
                        // A full disk (or an I/O error) may have rolled the whole transaction back
                        // already; then the savepoint is gone and the batch fails with that error.
                        guard !writer.db.isAutocommit else { throw error }
                        try writer.db.execute("ROLLBACK TO submission")
                        try writer.db.execute("RELEASE submission")
                        storage.noteFailure(error)
                        outcomes.append(.failure(error))
                    }
                }
            }
        } catch {
            // The transaction itself failed (its commit, or a rollback to a savepoint): nothing of
            // the batch is stored, and every caller hears so.
            writer.failed(error, storage: storage)
            for submission in batch { submission.continuation.resume(throwing: error) }
            return
        }
        if outcomes.contains(where: { if case .success = $0 { true } else { false } }) { storage.noteStored() }
        for (submission, outcome) in zip(batch, outcomes) { submission.continuation.resume(with: outcome) }
    }

    private static func submit(
        _ job: NewJob, into: JobID?, idempotency: Idempotency?, now: Int64, writer: WriterState
    ) throws -> SubmitOutcome {
        if let idempotency {
            try writer.db.run(
                "DELETE FROM idempotency_keys WHERE created_at < ?",
                [.integer(now - Idempotency.windowMillis)])
            let earlier = try writer.db.queryOne(
                "\(Idempotency.selectEarlier) WHERE key = ?", [.text(idempotency.key)], Idempotency.EarlierUse.read)
            if let outcome = idempotency.outcome(after: earlier) { return outcome }
        }
        let submitted =
            try into.map { try Self.append(job.tasks, to: $0, now: now, writer: writer) }
            ?? Self.insert(job, now: now, writer: writer)
        if let idempotency {
            try writer.db.run(
                """
                INSERT INTO idempotency_keys (key, request_hash, status, response, created_at)
                VALUES (?, ?, ?, ?, ?)
                """,
                [
                    .text(idempotency.key), .text(idempotency.requestHash), .int(idempotency.status),
                    .blob(idempotency.render(submitted)), .integer(now),
                ])
        }
        return .created(submitted)
    }

    private static func insert(_ job: NewJob, now: Int64, writer: WriterState) throws -> SubmittedJob {
        let plan = DuplicatePlan(job.tasks, unique: job.uniqueURLs)
        let jobID = writer.ids.next(millis: now)
        let jobSeq = try writer.db.queryOne(
            """
            INSERT INTO jobs (id, task_count, timeout_ms, created_at, n_queued, callback_url, callback_events,
                              callback_secret, open, robots_txt, host_concurrency, host_interval_ms, unique_urls)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq
            """,
            [
                .text(jobID), .int(plan.toInsert.count), .int(job.timeoutMillis), .integer(now),
                .int(plan.toInsert.count),
                .optional(job.callback?.url), .int(job.callback?.events.reduce(0) { $0 | $1.bit } ?? 0),
                .optional(job.callback?.secret), .int(job.open ? 1 : 0), .text(job.robots.rawValue),
                .optional(job.hostLimits?.concurrency), .optional(job.hostLimits?.intervalMillis),
                .int(job.uniqueURLs ? 1 : 0),
            ]
        ) { $0.int64(0) }
        guard let jobSeq else { throw StoreError(.sqlite, "job insert returned no row") }
        let inserted = try insertTasks(
            plan.toInsert, keys: plan.keys, jobSeq: jobSeq, firstPosition: 0, settings: JobSettings(job), now: now,
            writer: writer)
        return SubmittedJob(
            id: JobID(trusted: jobID), taskIDs: plan.ids(inserted: inserted), createdAt: now,
            duplicates: plan.duplicates)
    }

    /// Inserts `tasks` into the job `jobSeq`, at positions from `firstPosition` on, with what the
    /// job hands down to them; answers their ids.
    static func insertTasks(
        _ tasks: [NewTask], keys: [String?], jobSeq: Int64, firstPosition: Int, settings: JobSettings, now: Int64,
        writer: WriterState
    ) throws -> [TaskID] {
        let obey = settings.robots == .obey ? 1 : 0
        let held = settings.held ? 1 : 0
        let concurrency = SQLValue.optional(settings.hostLimits?.concurrency)
        let interval = SQLValue.optional(settings.hostLimits?.intervalMillis)
        var taskIDs: [TaskID] = []
        taskIDs.reserveCapacity(tasks.count)
        try taskInsert.run(rows: tasks.count, in: writer.db) { index, values in
            let task = tasks[index]
            let taskID = writer.ids.next(millis: now)
            // One append per value: an array literal per row was an allocation per task.
            values.append(.text(taskID))
            values.append(.integer(jobSeq))
            values.append(.int(firstPosition + index))
            values.append(.text(task.request.url))
            values.append(.text(task.host))
            values.append(.text(task.request.method))
            values.append(.text(HeaderCoding.encode(task.request.headers)))
            values.append(task.request.body.map { .blob($0) } ?? .null)
            values.append(.int(task.timeoutMillis))
            values.append(.int(task.priority))
            values.append(.int(task.maxAttempts))
            values.append(.optional(task.retryBaseMillis))
            values.append(.optional(task.retryMaxMillis))
            values.append(.integer(task.notBefore ?? now))
            values.append(.integer(now))
            values.append(.integer(now))
            values.append(.int((task.notBefore ?? now) > now ? 1 : 0))
            values.append(.int(obey))
            values.append(.int(held))
            values.append(concurrency)
            values.append(interval)
            values.append(.int(task.decodeContent ? 1 : 0))
            values.append(.optional(keys[index]))
            taskIDs.append(TaskID(trusted: taskID))
        }
        return taskIDs
    }

}

private let taskInsert = MultiRowInsert(
    """
    INSERT INTO tasks (id, job_seq, position, url, host, method, headers, body, timeout_ms, priority, max_attempts,
                       retry_base_ms, retry_max_ms, next_attempt_at, created_at, updated_at, waiting, obey_robots,
                       held, job_host_concurrency, job_host_interval_ms, decode_content, dedupe_key)
    """,
    columns: 23)

/// A submission waiting for the writer, with the caller to answer once it is committed.
struct PendingSubmission: Sendable {
    let job: NewJob
    /// The open job that takes `job.tasks`; nil for a new job.
    let into: JobID?
    let idempotency: Idempotency?
    let now: Int64
    let continuation: CheckedContinuation<SubmitOutcome, any Error>
}

/// The submissions waiting for the writer. The first to arrive while no commit is scheduled schedules
/// one on the writer's queue; those arriving before that commit starts join it.
final class SubmissionQueue: Sendable {
    private struct State {
        var waiting: [PendingSubmission] = []
        var commitScheduled = false
    }

    private let state = NIOLockedValueBox(State())

    /// Adds `submission`; answers whether the caller must schedule a commit.
    func add(_ submission: PendingSubmission) -> Bool {
        state.withLockedValue { state in
            state.waiting.append(submission)
            defer { state.commitScheduled = true }
            return !state.commitScheduled
        }
    }

    /// The oldest waiting submissions, up to `maxTasks` tasks (at least one submission), and whether
    /// others still wait (the caller then schedules the next commit; until all are taken, arrivals do
    /// not schedule one of their own).
    func take(maxTasks: Int) -> (batch: [PendingSubmission], more: Bool) {
        state.withLockedValue { state in
            var tasks = 0
            var count = 0
            for submission in state.waiting {
                if count > 0 && tasks + submission.job.tasks.count > maxTasks { break }
                tasks += submission.job.tasks.count
                count += 1
            }
            let batch = Array(state.waiting.prefix(count))
            state.waiting.removeFirst(count)
            let more = !state.waiting.isEmpty
            state.commitScheduled = more
            return (batch, more)
        }
    }
}
