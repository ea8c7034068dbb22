/// One `Allow` or `Disallow` line, its pattern already normalised for matching.
struct RobotsRule: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case allow
        case disallow
    }

    let kind: Kind
    let pattern: RobotsPattern
    /// The normalised pattern's length in octets, `*` and `$` included: longer is more specific.
    let priority: Int

    /// `nil` for an empty value: an empty `Disallow:` (or `Allow:`) is no rule at all.
    ///
    /// A pattern that starts with neither `/` nor `*` gets a leading `/`, since paths always
    /// start with one and `Disallow: private` plainly means `/private`.
    init?(kind: Kind, pattern value: ArraySlice<UInt8>) {
        var normalized = RobotsPercentEncoding.normalized(value)
        guard let first = normalized.first else { return nil }
        if first != UInt8(ascii: "/") && first != UInt8(ascii: "*") {
            normalized.insert(UInt8(ascii: "/"), at: 0)
        }
        self.init(kind: kind, normalizedPattern: normalized)
    }

    init(kind: Kind, normalizedPattern: [UInt8]) {
        self.kind = kind
        self.pattern = RobotsPattern(normalizedPattern)
        self.priority = normalizedPattern.count
    }
}
