import HTTPServer
import JSON
import Logging
import Store

/// An RFC 9457 problem: what went wrong, as `application/problem+json`, with a stable `code` (also
/// the last part of `type`) and, for bad input, the `field` that caused it.
public struct Problem: Error, Sendable {
    public let status: Int
    public let code: String
    public let title: String
    public let detail: String
    /// Path of the offending input, like `tasks[3].url`, or a header or parameter name.
    public let field: String?
    public var extraHeaders: [(String, String)] = []

    public init(status: Int, code: String, title: String, detail: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.field = field
    }

    public static let typePrefix = "urn:fetchq:problem:"

    public var response: HTTPResponse {
        var members: [(String, JSONValue)] = [
            ("type", .string(Self.typePrefix + code)), ("title", .string(title)), ("status", .integer(status)),
            ("detail", .string(detail)), ("code", .string(code)),
        ]
        if let field { members.append(("field", .string(field))) }
        return HTTPResponse(
            status: status, headers: [("Content-Type", "application/problem+json")] + extraHeaders,
            body: JSONValue.object(members).serialized)
    }

    // MARK: The problems fetchq answers with

    static func invalidField(_ field: String, _ detail: String) -> Problem {
        Problem(status: 422, code: "invalid_field", title: "A field is not valid", detail: detail, field: field)
    }

    static func malformedJSON(_ error: JSONSyntaxError) -> Problem {
        Problem(
            status: 400, code: "malformed_json", title: "The body is not valid JSON",
            detail: "\(error.reason) at byte \(error.offset).", field: "body")
    }

    static func notFound(_ what: String) -> Problem {
        Problem(status: 404, code: "not_found", title: "Not found", detail: "\(what) does not exist.")
    }

    static func methodNotAllowed(_ allowed: [String]) -> Problem {
        var problem = Problem(
            status: 405, code: "method_not_allowed", title: "Method not allowed",
            detail: "This resource allows \(allowed.joined(separator: ", ")).")
        problem.extraHeaders = [("Allow", allowed.joined(separator: ", "))]
        return problem
    }

    static func unsupportedMediaType(_ given: String?) -> Problem {
        Problem(
            status: 415, code: "unsupported_media_type", title: "Unsupported media type",
            detail: "Send the body as application/json\(given.map { ", not \($0)" } ?? "").",
            field: "content-type")
    }

    static func shuttingDown(
        _ detail: String = "The service is shutting down and takes no new jobs; retry shortly."
    ) -> Problem {
        var problem = Problem(status: 503, code: "shutting_down", title: "Service stopping", detail: detail)
        problem.extraHeaders = [("Retry-After", "5")]
        return problem
    }

    /// The disk under the database is full: nothing was stored; retry once space is freed.
    static let insufficientStorage = Problem.retryLater(
        status: 507, code: "insufficient_storage", title: "Insufficient storage",
        detail: "The service's disk is full, so nothing of this request was stored; retry later.",
        afterSeconds: retryAfterWhenFullSeconds)

    /// Seconds a client is asked to wait while the disk is full.
    static let retryAfterWhenFullSeconds = 30

    static let storeUnavailable = Problem.retryLater(
        status: 503, code: "store_unavailable", title: "Database unavailable",
        detail: "The service cannot reach its database, so nothing of this request was stored; retry later.",
        afterSeconds: retryAfterWhenUnavailableSeconds)

    /// A problem that asks the client to try again after `afterSeconds` (`Retry-After`).
    private static func retryLater(status: Int, code: String, title: String, detail: String, afterSeconds: Int)
        -> Problem
    {
        var problem = Problem(status: status, code: code, title: title, detail: detail)
        problem.extraHeaders = [("Retry-After", "\(afterSeconds)")]
        return problem
    }

    /// Seconds a client is asked to wait while the database is out of reach.
    static let retryAfterWhenUnavailableSeconds = 5

    /// The answer to a write the store could not make: 507 for a full disk (the store has logged the
    /// episode once), otherwise logged here and answered as a bare 500.
    static func writeFailed(_ error: any Error, logger: Logger, _ message: String) -> Problem {
        if let error = error as? StoreError, error.isStorageFull { return insufficientStorage }
        if let error = error as? StoreError, error.code == .unavailable { return storeUnavailable }
        logger.error("\(message)", metadata: ["error": "\(error)"])
        return internalError
    }

    static let internalError = Problem(
        status: 500, code: "internal_error", title: "Internal error",
        detail: "The service could not complete the request; it has been logged.")
}
