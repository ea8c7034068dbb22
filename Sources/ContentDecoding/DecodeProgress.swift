/// Where decoding stands after a chunk, and so what the caller should do next.
public enum DecodeProgress: Equatable, Sendable {
    /// The decoder wants more input: keep reading the body.
    case more
    /// The decoded body is longer than the limit; `output` holds exactly the first `limit` bytes.
    /// Stop reading and mark the body truncated.
    case limitReached
    /// The input so far ends exactly where a complete stream ends. A gzip body may still continue
    /// with another member, so keep reading until the body ends, then call `finish()`.
    case finished
}
