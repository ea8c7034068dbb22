import ContentDecoding
import TestSupport
import Testing

/// Arbitrary bytes end in output within the cap or a typed error: never a crash, a hang or an overrun.
@Suite struct FuzzTests {
    static let limit = 256 * 1024

    /// Decodes `body` in random chunk sizes; returns the error, if any, after checking the cap held.
    static func decodeRandomly(
        _ body: [UInt8], as coding: ContentCoding, using generator: inout SplitMix64
    ) -> ContentDecodingError? {
        let chunkSize = [1, 3, 17, 4_096, 1 << 20].randomElement(using: &generator) ?? 1
        do {
            let result = try decode(body, codings: [coding], limit: limit, chunkSize: chunkSize)
            #expect(result.output.count <= limit)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: ContentCoding.allCases)
    func randomBytesNeverCrash(coding: ContentCoding) {
        var generator = SplitMix64(seed: 7)
        for _ in 0..<300 {
            let count = Int.random(in: 0..<600, using: &generator)
            var body = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Half the inputs get past the magic bytes, so they reach deeper into the decoder.
            if coding == .gzip && Bool.random(using: &generator) && body.count >= 3 {
                body.replaceSubrange(0..<3, with: [0x1F, 0x8B, 0x08])
            }
            _ = Self.decodeRandomly(body, as: coding, using: &generator)
        }
    }

    @Test(arguments: Compression.allCases)
    func bitFlipsNeverCrashAndChecksummedFormatsNoticeThem(compression: Compression) {
        let original = Sample.text(count: 30_000, seed: 8)
        let body = compression.compress(original)
        // Gzip's header bytes 4...9 (time, flags, OS) are not covered by any check; zlib's are.
        let checkedFrom = compression == .gzip ? 10 : 0
        var generator = SplitMix64(seed: 9)
        for _ in 0..<200 {
            var damaged = body
            let position = Int.random(in: 0..<damaged.count, using: &generator)
            damaged[position] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
            let error = Self.decodeRandomly(damaged, as: compression.coding, using: &generator)
            if compression.isChecksummed && position >= checkedFrom {
                #expect(error != nil, "flip at \(position) of \(damaged.count) went unnoticed")
            }
        }
    }

    @Test(arguments: Compression.allCases)
    func everyCutIsReportedOrComplete(compression: Compression) {
        let body = compression.compress(Sample.random(count: 3_000, seed: 10))
        var generator = SplitMix64(seed: 11)
        for cut in stride(from: 1, to: body.count, by: 13) {
            let error = Self.decodeRandomly(Array(body.prefix(cut)), as: compression.coding, using: &generator)
            #expect(error == .truncatedStream(compression.coding), "cut at \(cut) of \(body.count)")
        }
    }
}
