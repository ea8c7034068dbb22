import ContentDecoding
import TestSupport
import Testing

/// Damaged, cut or mislabelled bodies give a typed error, never wrong bytes passed off as the content.
@Suite struct MalformedInputTests {
    static let original = Sample.text(count: 20_000)

    @Test(arguments: Compression.allCases)
    func cutBodyIsReportedTruncatedAtFinish(compression: Compression) throws {
        let body = compression.compress(Self.original)
        for cut in [1, 2, body.count / 2, body.count - 1] {
            let decoder = try ContentDecoder(codings: [compression.coding], limit: 1 << 30)
            var output: [UInt8] = []
            #expect(try decoder.feed(body.prefix(cut), into: &output) == .more)
            #expect(throws: ContentDecodingError.truncatedStream(compression.coding), "cut at \(cut)") {
                try decoder.finish()
            }
        }
    }

    @Test(arguments: Compression.allCases)
    func bodyInAnotherFormatIsCorrupt(compression: Compression) {
        // A server that labels a brotli body gzip, or the other way round.
        let mislabelled = (compression == .brotli ? Compression.gzip : .brotli).compress(Self.original)
        #expect {
            _ = try decode(mislabelled, codings: [compression.coding], chunkSize: 7)
        } throws: { error in
            guard case .corrupt(let coding, _) = error as? ContentDecodingError else { return false }
            return coding == compression.coding
        }
    }

    @Test func damagedGzipChecksumIsCorrupt() {
        var body = Compression.gzip.compress(Self.original)
        body[body.count - 6] ^= 0x01  // inside the CRC-32 trailer
        #expect(throws: ContentDecodingError.corrupt(coding: .gzip, detail: "incorrect data check")) {
            _ = try decode(body, codings: [.gzip], chunkSize: 64 * 1024)
        }
    }

    @Test func damagedZlibChecksumIsCorrupt() {
        var body = Compression.zlibDeflate.compress(Self.original)
        body[body.count - 1] ^= 0x80  // inside the Adler-32 trailer
        #expect(throws: ContentDecodingError.corrupt(coding: .deflate, detail: "incorrect data check")) {
            _ = try decode(body, codings: [.deflate], chunkSize: 64 * 1024)
        }
    }

    @Test func rawDeflateWithAReservedBlockTypeIsCorrupt() {
        #expect(throws: ContentDecodingError.corrupt(coding: .deflate, detail: "invalid block type")) {
            _ = try decode([0xFF, 0xFF, 0xFF, 0xFF], codings: [.deflate], chunkSize: 1)
        }
    }

    @Test(arguments: Compression.allCases)
    func dataAfterTheEndOfTheStreamIsCorrupt(compression: Compression) {
        // For gzip the extra bytes would have to open another member; "X" does not.
        let body = compression.compress(Self.original) + Array("X".utf8)
        #expect {
            _ = try decode(body, codings: [compression.coding], chunkSize: 7)
        } throws: { error in
            guard case .corrupt(let coding, _) = error as? ContentDecodingError else { return false }
            return coding == compression.coding
        }
    }

    @Test func errorRepeatsOnEveryLaterCall() throws {
        let decoder = try ContentDecoder(codings: [.gzip], limit: 1_024)
        var output: [UInt8] = []
        let garbage: [UInt8] = Array("not gzip at all".utf8)
        let expected = ContentDecodingError.corrupt(coding: .gzip, detail: "incorrect header check")
        #expect(throws: expected) { try decoder.feed(garbage, into: &output) }
        #expect(throws: expected) { try decoder.feed(Compression.gzip.compress([1, 2, 3]), into: &output) }
        #expect(throws: expected) { try decoder.finish() }
        #expect(output.isEmpty)
    }

    @Test func tooManyStackedCodingsAreRefused() {
        #expect(throws: ContentDecodingError.tooManyCodings(5)) {
            _ = try ContentDecoder(codings: Array(repeating: .gzip, count: 5), limit: 1)
        }
    }
}
