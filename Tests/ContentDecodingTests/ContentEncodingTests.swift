import ContentDecoding
import Testing

/// Reading `Content-Encoding` and describing failures the way a user reads them.
@Suite struct ContentEncodingTests {
    @Test(arguments: [
        ("gzip", ContentEncoding.codings([.gzip])),
        ("x-gzip", .codings([.gzip])),
        ("GZIP", .codings([.gzip])),
        ("deflate", .codings([.deflate])),
        ("br", .codings([.br])),
        ("identity", .identity),
        ("", .identity),
        (" , ", .identity),
        ("gzip, br", .codings([.gzip, .br])),
        ("gzip,\tidentity ,Br", .codings([.gzip, .br])),
        ("compress", .unsupported("compress")),
        ("gzip, zstd", .unsupported("zstd")),
    ])
    func headerValueParses(header: String, expected: ContentEncoding) {
        #expect(ContentCoding.parse(header) == expected)
    }

    @Test func errorsDescribeThemselvesInPlainWords() {
        #expect(
            ContentDecodingError.corrupt(coding: .gzip, detail: "incorrect header check").description
                == "the gzip stream is corrupt (incorrect header check)")
        #expect(ContentDecodingError.truncatedStream(.br).description == "the brotli stream ends before it is complete")
        #expect(
            ContentDecodingError.unsupported("compress").description
                == "the content coding \"compress\" is not supported")
        #expect(ContentDecodingError.outOfMemory.description == "there was not enough memory to decode the body")
    }
}
