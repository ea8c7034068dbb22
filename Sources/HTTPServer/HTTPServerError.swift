/// Why the server could not start, or run.
public struct HTTPServerError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, for callers that word it for their own users.
    public enum Reason: Sendable {
        /// The configured host is not an IP address literal.
        case hostNotAnAddress
        /// The address is in use, or binding to it is not allowed.
        case cannotListen
        /// `run()` was called a second time.
        case ranTwice
    }

    public let reason: Reason
    public let description: String

    public init(_ reason: Reason, _ description: String) {
        self.reason = reason
        self.description = description
    }
}
