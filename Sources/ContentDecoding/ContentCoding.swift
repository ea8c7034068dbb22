/// A compression a response body can carry, named as it appears in `Content-Encoding`.
public enum ContentCoding: String, Sendable, CaseIterable {
    case gzip
    case deflate
    case br

    /// The name used in error messages: "br" means nothing to most readers, "brotli" does.
    public var displayName: String {
        switch self {
        case .gzip: "gzip"
        case .deflate: "deflate"
        case .br: "brotli"
        }
    }
}
