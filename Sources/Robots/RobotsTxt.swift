/// A parsed robots.txt file (RFC 9309): its groups and the product tokens that name them.
///
/// Parsing never fails: lines that are not understood are skipped, as the RFC asks, so a
/// garbled file degrades to fewer rules rather than to an error.
public struct RobotsTxt: Sendable, Equatable {
    /// Every group, in file order.
    private let groups: [RobotsRules]
    /// For each lowercased product token (`*` included), the groups naming it, in file order.
    private let groupIndices: [String: [Int]]

    /// Parses a robots.txt body as raw octets.
    ///
    /// The body is not required to be valid UTF-8; patterns are compared as octets.
    public init(parsing body: some Collection<UInt8>) {
        var parser = RobotsParser()
        parser.consume(Array(body))
        (groups, groupIndices) = parser.finish()
    }

    /// The rules that apply to a crawler with this product token.
    ///
    /// The groups naming the token (case-insensitively) win, else the `*` groups, else there are no
    /// rules at all. A matching group without rules allows everything; it does not fall back to
    /// `*`. A full User-Agent string is reduced to its product token first, so passing
    /// `"fetchq/0.9"` behaves like passing `"fetchq"`. Groups naming the same token are merged
    /// here, on demand, so parsing never multiplies rules by agents.
    public func rules(for productToken: String) -> RobotsRules {
        let key = RobotsASCII.lowercased(Self.productToken(fromUserAgent: productToken))
        let named = key.isEmpty ? nil : groupIndices[key]
        guard let indices = named ?? groupIndices["*"] else { return RobotsRules() }
        return RobotsRules(merging: indices.map { groups[$0] })
    }

    /// The product token of a User-Agent: the text before its first `/` or whitespace, trimmed.
    ///
    /// `"fetchq/0.9 (+https://example.com)"` gives `"fetchq"`.
    public static func productToken(fromUserAgent userAgent: String) -> String {
        let trimmed = RobotsASCII.trimmed(Array(userAgent.utf8)[...])
        let end = trimmed.firstIndex { $0 == UInt8(ascii: "/") || RobotsASCII.isWhitespace($0) }
        return String(decoding: trimmed[..<(end ?? trimmed.endIndex)], as: UTF8.self)
    }
}
