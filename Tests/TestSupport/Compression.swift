import CBrotliEnc
import CZlib
import ContentDecoding

/// The encodings a server may send, each built with the real encoder (zlib, brotli) so that
/// fixtures explain themselves: the decoder's tests and the test target server use them.
public enum Compression: String, CaseIterable, Sendable {
    case gzip
    case zlibDeflate
    case rawDeflate
    case brotli

    /// The `Content-Encoding` a server labels this with.
    public var coding: ContentCoding {
        switch self {
        case .gzip: .gzip
        case .zlibDeflate, .rawDeflate: .deflate
        case .brotli: .br
        }
    }

    /// Whether the format carries a checksum of the content, so that any damage must be noticed.
    public var isChecksummed: Bool { self == .gzip || self == .zlibDeflate }

    public func compress(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .gzip: Self.deflate(data, windowBits: 15 + 16)
        case .zlibDeflate: Self.deflate(data, windowBits: 15)
        case .rawDeflate: Self.deflate(data, windowBits: -15)
        case .brotli: Self.brotli(data)
        }
    }

    private static func deflate(_ data: [UInt8], windowBits: Int32) -> [UInt8] {
        var stream = z_stream()
        precondition(czlib_deflate_init2(&stream, 9, windowBits) == Z_OK, "deflateInit2 failed")
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(data.count))) + 64)
        let code = data.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = input.baseAddress
                stream.avail_in = UInt32(input.count)
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                return CZlib.deflate(&stream, Z_FINISH)
            }
        }
        precondition(code == Z_STREAM_END, "deflate did not finish in one call")
        return Array(output.prefix(Int(stream.total_out)))
    }

    private static func brotli(_ data: [UInt8]) -> [UInt8] {
        var size = BrotliEncoderMaxCompressedSize(data.count) + 64
        var output = [UInt8](repeating: 0, count: size)
        let ok = output.withUnsafeMutableBufferPointer { out in
            data.withUnsafeBufferPointer { input in
                BrotliEncoderCompress(
                    5, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, input.count, input.baseAddress, &size,
                    out.baseAddress)
            }
        }
        precondition(ok == BROTLI_TRUE, "BrotliEncoderCompress failed")
        return Array(output.prefix(size))
    }
}
