import ContentDecoding
import TestSupport
import Testing

/// The cap on the decoded size: stops decompression early and never holds more than the cap.
@Suite struct LimitTests {
    static let mebibyte = 1 << 20
    /// 10 MB of zeros, which gzip shrinks to about 10 KB: a decompression bomb.
    static let zeros = [UInt8](repeating: 0, count: 10_000_000)

    @Test(arguments: Compression.allCases)
    func bombIsCutAtTheLimit(compression: Compression) throws {
        let bomb = compression.compress(Self.zeros)
        let chunkSize = 1_024
        let result = try decode(bomb, codings: [compression.coding], limit: Self.mebibyte, chunkSize: chunkSize)
        #expect(result.progress == .limitReached)
        #expect(result.output.count == Self.mebibyte)
        #expect(result.output.allSatisfy { $0 == 0 })
        // The output never grew past the cap plus one scratch window.
        #expect(result.output.capacity <= Self.mebibyte + 64 * 1024)
        // Decoding stopped early: the reader was told to stop before the body ended.
        let chunks = (bomb.count + chunkSize - 1) / chunkSize
        #expect(chunks < 3 || result.chunksFed < chunks)
    }

    @Test func stackedBombIsCutAtTheLimit() throws {
        let bomb = Compression.brotli.compress(Compression.gzip.compress(Self.zeros))
        let result = try decode(bomb, codings: [.gzip, .br], limit: Self.mebibyte, chunkSize: 512)
        #expect(result.progress == .limitReached)
        #expect(result.output.count == Self.mebibyte)
        #expect(result.output.capacity <= Self.mebibyte + 64 * 1024)
    }

    @Test(arguments: Compression.allCases)
    func bodyOfExactlyTheLimitIsComplete(compression: Compression) throws {
        let original = Sample.text(count: 100_000)
        let body = compression.compress(original)
        let exact = try decode(body, codings: [compression.coding], limit: original.count, chunkSize: 7)
        #expect(exact.progress == .finished)
        #expect(exact.output == original)

        let oneShort = try decode(body, codings: [compression.coding], limit: original.count - 1, chunkSize: 7)
        #expect(oneShort.progress == .limitReached)
        #expect(oneShort.output == Array(original.dropLast()))
    }

    @Test(arguments: Compression.allCases, [0, 1, 1_000, 70_000])
    func cappedBodyIsAPrefixOfTheContent(compression: Compression, limit: Int) throws {
        let original = Sample.random(count: 150_000)
        let result = try decode(
            compression.compress(original), codings: [compression.coding], limit: limit, chunkSize: 4_096)
        #expect(result.progress == .limitReached)
        #expect(result.output == Array(original.prefix(limit)))
    }

    @Test func feedingPastTheLimitAddsNothing() throws {
        let decoder = try ContentDecoder(codings: [.gzip], limit: 10)
        var output: [UInt8] = []
        let body = Compression.gzip.compress(Sample.text(count: 1_000))
        #expect(try decoder.feed(body.prefix(body.count / 2), into: &output) == .limitReached)
        #expect(try decoder.feed(body.dropFirst(body.count / 2), into: &output) == .limitReached)
        try decoder.finish()
        #expect(output.count == 10)
        #expect(decoder.decodedByteCount == 10)
    }
}
