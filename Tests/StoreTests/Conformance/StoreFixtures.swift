import Foundation
import JSON
import Store
import Testing

// What the conformance suites share: tasks, results and reads written once, through `QueueStore`.

func sampleTask(_ url: String, attempts: Int = 1) -> NewTask {
    NewTask(
        request: FetchRequest(url: url), host: URL(string: url)?.host ?? "", timeoutMillis: 1_000,
        maxAttempts: attempts)
}

/// `count` tasks on `http://<host>/<index>`.
func sampleTasks(_ count: Int, host: String = "example.test", attempts: Int = 1) -> [NewTask] {
    (0..<count).map { sampleTask("http://\(host)/\($0)", attempts: attempts) }
}

func result(
    _ task: ClaimedTask, status: Int, _ disposition: Disposition, body: String, at finishedAt: Int64 = 4
) -> AttemptResult {
    AttemptResult(
        seq: task.seq, attempt: task.attempt,
        outcome: Outcome(
            statusCode: status, headers: [HeaderField("content-type", "text/plain")], bodyBytes: body.utf8.count),
        disposition: disposition, body: StoredBody(contentType: "text/plain", bytes: Array(body.utf8)),
        finishedAt: finishedAt)
}

/// The leases of claimed tasks, as a worker holds them.
func leases(_ tasks: [ClaimedTask]) -> [(seq: Int64, attempt: Int)] {
    tasks.map { (seq: $0.seq, attempt: $0.attempt) }
}

/// An idempotency key whose replay body is the job's id.
func idempotency(_ key: String, hash: String = "h") -> Idempotency {
    Idempotency(key: key, requestHash: hash, status: 201) { Array($0.id.rawValue.utf8) }
}

/// A delivery attempt's end.
func deliveryResult(_ work: DeliveryWork, _ next: DeliveryResult.Next, status: Int?, at: Int64) -> DeliveryResult {
    DeliveryResult(seq: work.seq, attempt: work.attempt, next: next, status: status, error: nil, at: at)
}

/// A delivery's payload, parsed.
func payload(_ work: DeliveryWork) throws -> JSONValue {
    try JSONParser.parse(Array(work.payload.utf8))
}

extension QueueStore {
    /// Every task of a job, in submit order, in one page.
    func allTasks(of id: JobID, state: TaskState? = nil) async throws -> [TaskRecord] {
        try #require(try await tasks(of: id, state: state, cursor: nil, limit: 100_000)).tasks
    }

    /// Every delivery of a job, oldest first, in one page.
    func allDeliveries(of id: JobID) async throws -> [DeliveryRecord] {
        try #require(try await deliveries(of: id, cursor: nil, limit: 100_000)).deliveries
    }

    /// Claims and succeeds every due task.
    func finishAll(now: Int64, status: Int = 200) async throws -> [ClaimedTask] {
        let claimed = try await claim(limit: 100_000, now: now, leaseMarginMillis: 0)
        _ = try await record(claimed.map { result($0, status: status, .succeeded, body: "", at: now) })
        return claimed
    }
}

extension SubmitOutcome {
    /// The stored job; nil for a replay or a reused key.
    var created: SubmittedJob? {
        if case .created(let job) = self { job } else { nil }
    }
}

extension SealOutcome {
    /// The sealed job; nil when there was no such job.
    var sealed: JobRecord? {
        if case .sealed(let job) = self { job } else { nil }
    }
}

/// Well-formed ids that no store issued.
enum Unknown {
    static func job() throws -> JobID { try #require(JobID("01ARZ3NDEKTSV4RRFFQ69G5FAV")) }
    static func task() throws -> TaskID { try #require(TaskID("01ARZ3NDEKTSV4RRFFQ69G5FAV")) }
    static func delivery() throws -> DeliveryID { try #require(DeliveryID("msg_01ARZ3NDEKTSV4RRFFQ69G5FAV")) }
}
