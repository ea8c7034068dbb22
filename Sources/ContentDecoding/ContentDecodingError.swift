/// Why a body could not be decoded; `description` is a sentence fit for a task's error message.
public enum ContentDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes are not a valid stream of that coding; `detail` says what was wrong, briefly.
    case corrupt(coding: ContentCoding, detail: String)
    /// The body ended before the compressed stream did.
    case truncatedStream(ContentCoding)
    /// The header names a coding this decoder does not implement.
    case unsupported(String)
    /// More codings are stacked than ``ContentDecoder/maximumStackedCodings``.
    case tooManyCodings(Int)
    /// zlib or brotli could not allocate its state.
    case outOfMemory

    public var description: String {
        switch self {
        case .corrupt(let coding, let detail): "the \(coding.displayName) stream is corrupt (\(detail))"
        case .truncatedStream(let coding): "the \(coding.displayName) stream ends before it is complete"
        case .unsupported(let name): "the content coding \"\(name)\" is not supported"
        case .tooManyCodings(let count):
            "the body is encoded \(count) times; at most \(ContentDecoder.maximumStackedCodings) codings are decoded"
        case .outOfMemory: "there was not enough memory to decode the body"
        }
    }
}
