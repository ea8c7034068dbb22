import Foundation

/// What happened on one attempt of a task.
public struct Outcome: Sendable, Equatable {
    public var statusCode: Int?
    /// Response header lines as received, in order, repeats kept; nil when no response arrived.
    public var headers: [HeaderField]?
    public var bodyBytes: Int?
    public var bodyTruncated: Bool
    public var durationMillis: Int?
    /// A stable error code (`timeout`, `connection_failed`, …) when no final response arrived.
    public var error: String?
    public var errorMessage: String?
    /// The Content-Encoding fetchq removed from the stored body (`decode_content`); nil when the
    /// body is stored as sent.
    public var decodedFrom: String?

    public init(
        statusCode: Int? = nil, headers: [HeaderField]? = nil, bodyBytes: Int? = nil,
        bodyTruncated: Bool = false, durationMillis: Int? = nil, error: String? = nil, errorMessage: String? = nil,
        decodedFrom: String? = nil
    ) {
        self.decodedFrom = decodedFrom
        self.statusCode = statusCode
        self.headers = headers
        self.bodyBytes = bodyBytes
        self.bodyTruncated = bodyTruncated
        self.durationMillis = durationMillis
        self.error = error
        self.errorMessage = errorMessage
    }
}

/// Why a task ended `failed`.
public enum FailureReason: String, Sendable, CaseIterable {
    /// The answer or error was one that another attempt would not change.
    case notRetryable = "not_retryable"
    /// Every attempt failed.
    case attemptsExhausted = "attempts_exhausted"
}
