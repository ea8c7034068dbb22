/// What a `Content-Encoding` header asks the client to undo, in the order the server applied it.
public enum ContentEncoding: Equatable, Sendable {
    /// No coding: the body is the content itself.
    case identity
    /// The codings in header order; decoding undoes them from the last to the first.
    case codings([ContentCoding])
    /// A coding this decoder does not implement (`compress`, `zstd`, …), as the header spelled it.
    case unsupported(String)
}

extension ContentCoding {
    /// Parses a `Content-Encoding` value (several header lines joined with commas are one list).
    ///
    /// Names are case-insensitive; `x-gzip` is the legacy alias of `gzip`; empty list elements and
    /// `identity` add nothing. The first coding not understood makes the whole value unsupported,
    /// because the body cannot be decoded past it.
    public static func parse(_ headerValue: String) -> ContentEncoding {
        var codings: [ContentCoding] = []
        for element in headerValue.split(separator: ",", omittingEmptySubsequences: false) {
            let token = element.trimmingHTTPWhitespace()
            switch token.lowercased() {
            case "": continue
            case "identity": continue
            case "gzip", "x-gzip": codings.append(.gzip)
            case "deflate": codings.append(.deflate)
            case "br": codings.append(.br)
            default: return .unsupported(String(token))
            }
        }
        return codings.isEmpty ? .identity : .codings(codings)
    }
}

extension Substring {
    /// Drops the spaces and tabs HTTP allows around list elements.
    fileprivate func trimmingHTTPWhitespace() -> Substring {
        let isWhitespace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isWhitespace($0) }), let last = lastIndex(where: { !isWhitespace($0) })
        else { return "" }
        return self[first...last]
    }
}
