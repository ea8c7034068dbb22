import Foundation
import Store

/// Decides where a finished attempt sends its task: success on a 2xx, and on a 304 that answers
/// the task's own conditional request; another attempt after a backoff for failures that may pass
/// (connection errors, timeouts, 408, 425, 429, 500, 502, 503, 504) while attempts are left;
/// failure otherwise.
public struct RetryPolicy: Sendable {
    public static let retryableStatuses: Set<Int> = [408, 425, 429, 500, 502, 503, 504]

    /// First backoff ceiling; doubles with each attempt.
    public var baseMillis: Int
    /// Largest wait between attempts, `Retry-After` included.
    public var maxMillis: Int

    public init(baseMillis: Int = 1_000, maxMillis: Int = 300_000) {
        self.baseMillis = baseMillis
        self.maxMillis = maxMillis
    }

    /// The same policy with a job's own overrides applied.
    public func overridden(baseMillis: Int?, maxMillis: Int?) -> RetryPolicy {
        RetryPolicy(baseMillis: baseMillis ?? self.baseMillis, maxMillis: maxMillis ?? self.maxMillis)
    }

    /// `conditional` says whether the task's request asked "only if changed" (`If-None-Match` or
    /// `If-Modified-Since`), to which a 304 is the answer asked for.
    public func disposition(
        statusCode: Int?, failure: FetchFailure.Kind?, retryAfter: String?, attempt: Int, maxAttempts: Int,
        conditional: Bool = false, now: Int64, using random: inout some RandomNumberGenerator
    ) -> Disposition {
        if let statusCode, (200..<300).contains(statusCode) || statusCode == 304 && conditional { return .succeeded }
        let retryable = statusCode.map(Self.retryableStatuses.contains) ?? (failure?.isRetryable ?? false)
        guard retryable else { return .failed(.notRetryable) }
        guard attempt < maxAttempts else { return .failed(.attemptsExhausted) }
        if let wait = retryAfterMillis(statusCode: statusCode, retryAfter: retryAfter, now: now) {
            return .retry(at: now + Int64(wait))
        }
        return .retry(at: now + Int64(backoff(attempt: attempt, using: &random)))
    }

    /// Whether a request with `headers` is conditional on the resource having changed.
    public static func isConditional(_ headers: [HeaderField]) -> Bool {
        headers.value(named: "if-none-match") != nil || headers.value(named: "if-modified-since") != nil
    }

    /// The wait a 429 or 503 asks for with `Retry-After`, capped at `maxMillis`; nil otherwise.
    public func retryAfterMillis(statusCode: Int?, retryAfter: String?, now: Int64) -> Int? {
        guard let retryAfter, let statusCode, statusCode == 429 || statusCode == 503,
            let wait = Self.parseRetryAfter(retryAfter, now: now)
        else { return nil }
        return min(wait, maxMillis)
    }

    /// Exponential backoff with full jitter: uniform in 0…min(max, base × 2^(attempt−1)).
    public func backoff(attempt: Int, using random: inout some RandomNumberGenerator) -> Int {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(
            maxMillis,
            baseMillis.multipliedReportingOverflow(by: 1 << exponent).overflow ? maxMillis : baseMillis << exponent)
        return Int.random(in: 0...max(ceiling, 0), using: &random)
    }

    /// Milliseconds to wait from a `Retry-After` value: delta-seconds or an HTTP date.
    public static func parseRetryAfter(_ value: String, now: Int64) -> Int? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return seconds > Int.max / 1000 ? Int.max : seconds * 1000 }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return max(0, Int(date.timeIntervalSince1970 * 1000) - Int(now))
    }
}
