import ContentDecoding
import TestSupport
import Testing

/// Whatever the chunking, a body decodes to exactly the bytes the server compressed.
@Suite struct RoundTripTests {
    static let bodies: [(name: String, bytes: [UInt8])] = [
        ("empty", []),
        ("one byte", [0x2A]),
        ("4 KiB of text", Sample.text(count: 4_099)),
        ("150 KB random", Sample.random(count: 150_000)),
        ("300 KB text", Sample.text(count: 300_000)),
    ]

    @Test(arguments: Compression.allCases, bodies.indices)
    func bodyDecodesByteExactInAnyChunking(compression: Compression, body: Int) throws {
        let original = Self.bodies[body].bytes
        let compressed = compression.compress(original)
        for chunkSize in [1, 7, 64 * 1024] {
            let result = try decode(compressed, codings: [compression.coding], chunkSize: chunkSize)
            #expect(result.output == original, "\(Self.bodies[body].name) in \(chunkSize)-byte chunks")
            #expect(result.progress == .finished)
        }
    }

    @Test(arguments: [1, 7, 64 * 1024])
    func concatenatedGzipMembersDecodeAsOneBody(chunkSize: Int) throws {
        let parts = [Sample.text(count: 10_000, seed: 3), [], Sample.random(count: 70_000, seed: 4)]
        let body = parts.flatMap { Compression.gzip.compress($0) }
        let result = try decode(body, codings: [.gzip], chunkSize: chunkSize)
        #expect(result.output == parts.flatMap { $0 })
        #expect(result.progress == .finished)
    }

    @Test(arguments: [1, 7, 64 * 1024])
    func zeroPaddingAfterAGzipMemberIsIgnored(chunkSize: Int) throws {
        let original = Sample.text(count: 5_000)
        let body = Compression.gzip.compress(original) + [UInt8](repeating: 0, count: 100)
        let result = try decode(body, codings: [.gzip], chunkSize: chunkSize)
        #expect(result.output == original)
        #expect(result.progress == .finished)
    }

    @Test(arguments: [1, 7, 64 * 1024])
    func stackedCodingsAreUndoneLastFirst(chunkSize: Int) throws {
        // `Content-Encoding: gzip, br`: gzip was applied first, brotli over it.
        let original = Sample.text(count: 200_000, seed: 5)
        let body = Compression.brotli.compress(Compression.gzip.compress(original))
        guard case .codings(let codings) = ContentCoding.parse("gzip, br") else {
            Issue.record("gzip, br did not parse as two codings")
            return
        }
        let result = try decode(body, codings: codings, chunkSize: chunkSize)
        #expect(result.output == original)
        #expect(result.progress == .finished)
    }

    @Test func identityPassesBytesThroughUpToTheLimit() throws {
        let original = Sample.random(count: 1_000)
        let whole = try decode(original, codings: [], chunkSize: 7)
        #expect(whole.output == original)
        #expect(whole.progress == .more)
        let capped = try decode(original, codings: [], limit: 100, chunkSize: 7)
        #expect(capped.output == Array(original.prefix(100)))
        #expect(capped.progress == .limitReached)
    }

    @Test func emptyBodyIsAcceptedAsEmpty() throws {
        let decoder = try ContentDecoder(codings: [.gzip], limit: 1_024)
        var output: [UInt8] = []
        #expect(try decoder.feed([], into: &output) == .more)
        try decoder.finish()
        #expect(output.isEmpty)
    }

    @Test func outputIsAppendedAfterWhatTheCallerAlreadyHeld() throws {
        let decoder = try ContentDecoder(codings: [.br], limit: 3)
        var output: [UInt8] = Array("head:".utf8)
        let progress = try decoder.feed(Compression.brotli.compress(Array("abcdef".utf8)), into: &output)
        #expect(progress == .limitReached)
        #expect(output == Array("head:abc".utf8))
    }
}
