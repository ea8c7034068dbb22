/// One understood robots.txt line: a known field and its trimmed value, comment removed.
struct RobotsLine: Equatable {
    /// The fields this parser acts on; any other field (`sitemap`, `host`, typos) is skipped.
    enum Field: Equatable {
        case userAgent
        case allow
        case disallow
        case crawlDelay
    }

    let field: Field
    let value: ArraySlice<UInt8>

    /// Reads `field : value # comment`; `nil` for blank, comment-only, unknown or colon-less lines.
    init?(_ raw: ArraySlice<UInt8>) {
        let content = raw[..<(raw.firstIndex(of: UInt8(ascii: "#")) ?? raw.endIndex)]
        guard let colon = content.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let name = RobotsASCII.trimmed(content[..<colon])
        guard let field = Self.field(named: name) else { return nil }
        self.field = field
        self.value = RobotsASCII.trimmed(content[content.index(after: colon)...])
    }

    private static func field(named name: ArraySlice<UInt8>) -> Field? {
        switch RobotsASCII.lowercased(name) {
        case "user-agent": .userAgent
        case "allow": .allow
        case "disallow": .disallow
        case "crawl-delay": .crawlDelay
        default: nil
        }
    }
}
