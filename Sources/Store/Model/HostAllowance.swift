import Foundation

/// How many more tasks each host may have in flight. Hosts not listed may have `defaultLimit`.
public struct HostAllowance: Sendable {
    public var defaultLimit: Int
    public var remaining: [String: Int]

    public init(defaultLimit: Int = .max, remaining: [String: Int] = [:]) {
        self.defaultLimit = defaultLimit
        self.remaining = remaining
    }
}
