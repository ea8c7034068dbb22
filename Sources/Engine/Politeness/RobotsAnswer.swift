import Robots

/// What fetching an origin's robots.txt gave, as RFC 9309 reads it.
public enum RobotsAnswer: Sendable, Equatable {
    /// A 2xx: its rules for fetchq's product token apply.
    case rules(RobotsRules)
    /// A 4xx (404 included), or more redirects than followed: no restrictions.
    case allowAll(status: Int?)
    /// A 5xx, a timeout or no connection: the origin counts as fully disallowed for now.
    case unavailable(reason: String)

    /// The result label of the fetch, for logs and `/metrics`.
    public var result: String {
        switch self {
        case .rules: "rules"
        case .allowAll: "allowed"
        case .unavailable: "unavailable"
        }
    }
}
