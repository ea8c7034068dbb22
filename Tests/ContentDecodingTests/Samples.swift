import ContentDecoding

/// A seeded generator, so that every run decodes the same bytes and a failure reproduces.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Bodies to compress: incompressible bytes and text-like bytes full of back-references.
enum Sample {
    static func random(count: Int, seed: UInt64 = 1) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func text(count: Int, seed: UInt64 = 2) -> [UInt8] {
        let words = ["job", "queue", "fetch", "lease", "retry", "worker", "<div>", "</p>", "\n", " ", "\u{e9}t\u{e9}"]
        var generator = SplitMix64(seed: seed)
        var bytes: [UInt8] = []
        while bytes.count < count {
            bytes += Array((words.randomElement(using: &generator) ?? " ").utf8)
        }
        return Array(bytes.prefix(count))
    }
}

/// What decoding a whole body produced.
struct DecodeResult {
    var output: [UInt8] = []
    var progress = DecodeProgress.more
    /// How many chunks were fed before the decoder said to stop (all of them, if it never did).
    var chunksFed = 0
}

/// Feeds `body` in `chunkSize` pieces as a body reader would, stopping at `.limitReached`, then finishes.
func decode(
    _ body: [UInt8], codings: [ContentCoding], limit: Int = 1 << 30, chunkSize: Int
) throws(ContentDecodingError) -> DecodeResult {
    let decoder = try ContentDecoder(codings: codings, limit: limit)
    var result = DecodeResult()
    var start = 0
    while start < body.count && result.progress != .limitReached {
        let end = min(start + chunkSize, body.count)
        result.progress = try decoder.feed(body[start..<end], into: &result.output)
        result.chunksFed += 1
        start = end
    }
    try decoder.finish()
    return result
}
