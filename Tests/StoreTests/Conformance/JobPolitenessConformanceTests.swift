import Foundation
import Store
import TestSupport
import Testing

/// A job's own politeness on every engine: its limits are stored, shown, handed down to appended
/// tasks and returned by the claim; a claim told a job's limits takes no more of its tasks per
/// host than it may, while other jobs' tasks to the same host go on.
@Suite struct JobPolitenessConformanceTests {
    @Test(arguments: StoreEngine.allCases)
    func aJobsLimitsAreStoredAndComeBackWithItsClaimedTasks(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            let limits = JobHostLimits(concurrency: 2, intervalMillis: 50)
            var job = NewJob(tasks: sampleTasks(2), timeoutMillis: 1_000, open: true)
            job.hostLimits = limits
            let submitted = try await store.submit(job, now: 1)
            _ = try await store.append(sampleTasks(1, host: "other.test"), to: submitted.id, idempotency: nil, now: 2)
            #expect(try await store.job(submitted.id)?.hostLimits == limits)
            let claimed = try await store.claim(limit: 10, now: 3, leaseMarginMillis: 0)
            #expect(claimed.count == 3)
            #expect(claimed.allSatisfy { $0.jobHostLimits == limits }, "appended tasks follow the job")
            let plain = try await store.submit(NewJob(tasks: sampleTasks(1), timeoutMillis: 1_000), now: 4)
            #expect(try await store.job(plain.id)?.hostLimits == nil)
        }
    }

    @Test(arguments: StoreEngine.allCases)
    func aClaimTakesNoMoreOfAJobsTasksPerHostThanItsLimit(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            var strict = NewJob(tasks: sampleTasks(10, host: "shared.test"), timeoutMillis: 1_000)
            strict.hostLimits = JobHostLimits(concurrency: 2, intervalMillis: nil)
            let limited = try await store.submit(strict, now: 1)
            _ = try await store.submit(
                NewJob(tasks: sampleTasks(10, host: "shared.test"), timeoutMillis: 1_000), now: 1)
            let first = try #require(try await store.claim(limit: 1, now: 2, leaseMarginMillis: 0).first)
            #expect(first.jobHostLimits?.concurrency == 2)
            // The engine now knows the job's limits, and that one of its tasks runs on the host.
            var hosts = HostAllowance()
            hosts.jobLimits = [first.jobSeq: JobHostLimits(concurrency: 2, intervalMillis: nil)]
            hosts.jobRemaining = [JobHostKey(jobSeq: first.jobSeq, host: "shared.test"): 1]
            let claimed = try await store.claim(limit: 12, now: 3, leaseMarginMillis: 0, hosts: hosts)
            let ofLimited = try await store.allTasks(of: limited.id, state: .running)
            #expect(ofLimited.count == 2, "one more of the limited job")
            #expect(claimed.count == 11, "and ten of the other job's, to the same host")
        }
    }
}

/// A body fetchq decoded, on every engine: the task's `decode_content` reaches the claim, the
/// removed coding is recorded and shown, and the body is served without it though the stored
/// response headers still name it.
@Suite struct DecodedBodyConformanceTests {
    @Test(arguments: StoreEngine.allCases)
    func aDecodedBodyIsRecordedAndServedWithoutItsEncoding(engine: StoreEngine) async throws {
        try await withStore(engine) { store in
            var decoded = sampleTask("http://example.test/decoded")
            decoded.decodeContent = true
            let submitted = try await store.submit(
                NewJob(tasks: [decoded, sampleTask("http://example.test/as-sent")], timeoutMillis: 1_000), now: 1)
            let claimed = try await store.claim(limit: 2, now: 2, leaseMarginMillis: 0).sorted { $0.seq < $1.seq }
            #expect(claimed.map(\.decodeContent) == [true, false])
            let headers = [HeaderField("content-encoding", "gzip"), HeaderField("content-type", "text/plain")]
            let results = claimed.map { task in
                AttemptResult(
                    seq: task.seq, attempt: task.attempt,
                    outcome: Outcome(
                        statusCode: 200, headers: headers, bodyBytes: 5,
                        decodedFrom: task.decodeContent ? "gzip" : nil),
                    disposition: .succeeded, body: StoredBody(contentType: "text/plain", bytes: Array("plain".utf8)),
                    finishedAt: 3)
            }
            #expect(try await store.record(results) == [true, true])
            let tasks = try await store.allTasks(of: submitted.id)
            #expect(tasks.map { $0.outcome?.decodedFrom } == ["gzip", nil])
            guard case .body(let body, _) = try await store.body(of: submitted.taskIDs[0]),
                case .body(let sent, _) = try await store.body(of: submitted.taskIDs[1])
            else {
                Issue.record("both bodies are stored")
                return
            }
            #expect(body.contentEncoding == nil, "served decoded")
            #expect(sent.contentEncoding == "gzip", "served as sent")
        }
    }
}
