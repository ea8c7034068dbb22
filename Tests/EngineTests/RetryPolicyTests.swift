import Engine
import Store
import TestSupport
import Testing

/// What is retried, when, and how `Retry-After` is read.
@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(baseMillis: 100, maxMillis: 5_000)
    let now: Int64 = 1_000_000

    private func disposition(
        status: Int? = nil, failure: FetchFailure.Kind? = nil, retryAfter: String? = nil, attempt: Int = 1,
        maxAttempts: Int = 3
    ) -> Disposition {
        var random = SeededRandom(seed: 7)
        return policy.disposition(
            statusCode: status, failure: failure, retryAfter: retryAfter, attempt: attempt, maxAttempts: maxAttempts,
            now: now, using: &random)
    }

    @Test func anySuccessfulStatusSucceeds() {
        for status in [200, 201, 204, 299] {
            #expect(disposition(status: status, attempt: 3, maxAttempts: 3) == .succeeded)
        }
    }

    @Test func theRetryableStatusesAreRetriedWhileAttemptsAreLeft() {
        #expect(RetryPolicy.retryableStatuses == [408, 425, 429, 500, 502, 503, 504])
        for status in RetryPolicy.retryableStatuses.sorted() {
            guard case .retry(let at) = disposition(status: status) else {
                Issue.record("\(status) was not retried")
                continue
            }
            #expect((now...(now + 100)).contains(at))
            #expect(disposition(status: status, attempt: 3, maxAttempts: 3) == .failed(.attemptsExhausted))
        }
    }

    @Test func aNotModifiedAnsweringTheTasksOwnConditionalRequestSucceeds() {
        var random = SeededRandom(seed: 7)
        #expect(
            policy.disposition(
                statusCode: 304, failure: nil, retryAfter: nil, attempt: 1, maxAttempts: 3, conditional: true,
                now: now, using: &random) == .succeeded)
        #expect(RetryPolicy.isConditional([HeaderField("If-None-Match", "\"v1\"")]))
        #expect(RetryPolicy.isConditional([HeaderField("if-modified-since", "Wed, 21 Oct 2015 07:28:00 GMT")]))
        #expect(!RetryPolicy.isConditional([HeaderField("If-Match", "\"v1\""), HeaderField("Accept", "*/*")]))
    }

    @Test func otherStatusesFailAtOnce() {
        for status in [100, 301, 304, 400, 401, 403, 404, 410, 422, 501, 505, 599] {
            #expect(disposition(status: status) == .failed(.notRetryable), "status \(status)")
            #expect(disposition(status: status, attempt: 3, maxAttempts: 3) == .failed(.notRetryable))
        }
    }

    @Test(arguments: FetchFailure.Kind.allCases) func aFailureIsRetriedOnlyIfItMayPass(_ kind: FetchFailure.Kind) {
        let expected = [.timeout, .connectionFailed, .other].contains(kind)
        #expect(kind.isRetryable == expected)
        if expected {
            guard case .retry = disposition(failure: kind) else {
                Issue.record("\(kind) was not retried")
                return
            }
        } else {
            #expect(disposition(failure: kind) == .failed(.notRetryable))
        }
    }

    @Test func anAttemptWithNeitherAStatusNorAFailureIsNotRetried() {
        #expect(disposition() == .failed(.notRetryable))
    }

    @Test func backoffStaysWithinItsCeilingAndReachesIt() {
        var random = SeededRandom(seed: 1)
        for attempt in 1...12 {
            let ceiling = min(5_000, 100 << (attempt - 1))
            let waits = (0..<2_000).map { _ in policy.backoff(attempt: attempt, using: &random) }
            #expect(waits.allSatisfy { (0...ceiling).contains($0) }, "attempt \(attempt)")
            #expect(waits.max() ?? 0 > ceiling * 9 / 10, "full jitter reaches near the ceiling")
            #expect(waits.min() ?? ceiling < ceiling / 10, "full jitter reaches near zero")
        }
    }

    @Test func backoffNeverOverflows() {
        var random = SeededRandom(seed: 2)
        for attempt in [-5, 0, 31, 64, 1_000, .max] {
            #expect((0...5_000).contains(policy.backoff(attempt: attempt, using: &random)))
        }
        #expect(policy.backoff(attempt: 0, using: &random) <= 100)
        let huge = RetryPolicy(baseMillis: .max / 2, maxMillis: 60_000)
        #expect((0...60_000).contains(huge.backoff(attempt: 5, using: &random)))
    }

    @Test func aJobsOwnSettingsOverrideThePolicy() {
        #expect(policy.overridden(baseMillis: 7, maxMillis: nil).baseMillis == 7)
        #expect(policy.overridden(baseMillis: 7, maxMillis: nil).maxMillis == 5_000)
        #expect(policy.overridden(baseMillis: nil, maxMillis: 9).maxMillis == 9)
    }

    @Test func retryAfterInSecondsSetsTheNextAttemptOfA429OrA503() {
        #expect(disposition(status: 429, retryAfter: "3") == .retry(at: now + 3_000))
        #expect(disposition(status: 503, retryAfter: " 2 ") == .retry(at: now + 2_000))
        #expect(disposition(status: 429, retryAfter: "0") == .retry(at: now))
        // Capped at the policy's largest wait.
        #expect(disposition(status: 429, retryAfter: "3600") == .retry(at: now + 5_000))
        #expect(disposition(status: 429, retryAfter: "9223372036854776") == .retry(at: now + 5_000))
    }

    @Test func retryAfterIsIgnoredWhereItDoesNotApply() {
        // Another status, an unreadable value, or no attempts left: backoff, or failure.
        #expect(policy.retryAfterMillis(statusCode: 500, retryAfter: "3", now: now) == nil)
        #expect(policy.retryAfterMillis(statusCode: nil, retryAfter: "3", now: now) == nil)
        #expect(policy.retryAfterMillis(statusCode: 429, retryAfter: nil, now: now) == nil)
        for value in ["soon", "-5", "1.5", ""] {
            #expect(policy.retryAfterMillis(statusCode: 429, retryAfter: value, now: now) == nil, "\(value)")
        }
        guard case .retry(let at) = disposition(status: 500, retryAfter: "3") else {
            Issue.record("a 500 was not retried")
            return
        }
        #expect(at <= now + 100)
        #expect(disposition(status: 429, retryAfter: "3", attempt: 3, maxAttempts: 3) == .failed(.attemptsExhausted))
    }

    @Test func retryAfterAsAnHTTPDateIsTheTimeUntilThatDate() {
        // Sun, 06 Nov 1994 08:49:37 GMT is 784,111,777 s after the epoch.
        let date = "Sun, 06 Nov 1994 08:49:37 GMT"
        let then: Int64 = 784_111_777_000
        #expect(RetryPolicy.parseRetryAfter(date, now: then - 4_000) == 4_000)
        #expect(RetryPolicy.parseRetryAfter(date, now: then + 4_000) == 0, "a date in the past means now")
        #expect(policy.retryAfterMillis(statusCode: 503, retryAfter: date, now: then - 60_000) == 5_000)
        #expect(RetryPolicy.parseRetryAfter("Sun, 06 Nov 1994", now: then) == nil)
    }
}
