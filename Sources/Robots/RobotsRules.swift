/// The rules of the one group that applies to a crawler, ready to answer "may I fetch this path?".
public struct RobotsRules: Sendable, Equatable {
    /// Sorted so the first match is the winner: longest pattern first, Allow before Disallow on a
    /// tie (RFC 9309 §2.2.2).
    private let rules: [RobotsRule]

    /// The group's first valid `Crawl-delay`, in milliseconds; `nil` when it has none.
    ///
    /// Crawl-delay is not part of RFC 9309; it is honoured because many sites rely on it.
    public let crawlDelayMilliseconds: Int?

    /// No rules: everything is allowed (RFC 9309 §2.3.1.3, e.g. for a robots.txt answered with 4xx).
    public init() {
        self.init(rules: [], crawlDelayMilliseconds: nil)
    }

    /// Everything but `/robots.txt` is disallowed (RFC 9309 §2.3.1.4, for an unreachable robots.txt).
    public static let disallowAll = RobotsRules(
        rules: [RobotsRule(kind: .disallow, normalizedPattern: [UInt8(ascii: "/")])],
        crawlDelayMilliseconds: nil
    )

    /// One group made of several that name the same agent: all their rules, and the first
    /// crawl delay in file order.
    init(merging parts: [RobotsRules]) {
        if parts.count == 1, let only = parts.first {
            self = only
        } else {
            self.init(
                rules: parts.flatMap(\.rules),
                crawlDelayMilliseconds: parts.lazy.compactMap(\.crawlDelayMilliseconds).first
            )
        }
    }

    init(rules: [RobotsRule], crawlDelayMilliseconds: Int?) {
        self.rules = rules.sorted { lhs, rhs in
            if lhs.priority != rhs.priority {
                return lhs.priority > rhs.priority
            }
            return lhs.kind == .allow && rhs.kind == .disallow
        }
        self.crawlDelayMilliseconds = crawlDelayMilliseconds
    }

    /// Whether a crawler may fetch this path.
    ///
    /// - Parameter path: the URL's path and `?query` as sent in the request line, still
    ///   percent-encoded; `""` means `/`.
    public func allows(path: String) -> Bool {
        var target = RobotsPercentEncoding.normalized(path.utf8)
        if target.first != UInt8(ascii: "/") {
            target.insert(UInt8(ascii: "/"), at: 0)
        }
        if Self.isRobotsTxt(target) {
            return true
        }
        for rule in rules where rule.pattern.matches(target) {
            return rule.kind == .allow
        }
        return true
    }

    /// `/robots.txt` itself, with or without a query, is always fetchable (RFC 9309 §2.2.2).
    private static func isRobotsTxt(_ path: [UInt8]) -> Bool {
        let end = path.firstIndex(of: UInt8(ascii: "?")) ?? path.endIndex
        return path[..<end].elementsEqual("/robots.txt".utf8)
    }
}
