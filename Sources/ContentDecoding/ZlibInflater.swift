internal import CZlib

/// Undoes `gzip` or HTTP `deflate` with zlib's `inflate`, owning one `z_stream` from init to deinit.
///
/// HTTP `deflate` means a zlib-wrapped stream (RFC 1950), but many servers send raw deflate
/// (RFC 1951) under that name. Like browsers, the stage looks at the first two bytes: a valid zlib
/// header (compression method 8, a window of at most 32 KiB, a header check divisible by 31) is
/// inflated as zlib, anything else as raw deflate. A raw stream opens with a valid zlib header only
/// by a 1-in-31 accident of a stored first block, and then fails loudly rather than decoding wrong.
final class ZlibInflater: DecodingStage {
    /// The two framings zlib is asked to read.
    enum Container {
        /// RFC 1952; a body may hold several members back to back, decoded as one.
        case gzip
        /// RFC 1950 or RFC 1951, told apart by the first two bytes.
        case deflate
    }

    /// Where the stream is; moves forward only, except that a gzip member's end can open a new one.
    private enum Phase: Equatable {
        /// `deflate` before two bytes have arrived; holds the first byte once it has.
        case sniffing(firstByte: UInt8?)
        case inflating
        /// The stream (or the current gzip member) ended; only another gzip member may follow.
        case ended
    }

    let coding: ContentCoding
    private let container: Container
    /// Heap-allocated because zlib keeps a pointer back to the `z_stream` and rejects one that moved.
    private let stream: UnsafeMutablePointer<z_stream>
    private var phase: Phase
    private var isStreamInitialized = false

    var isAtEnd: Bool { phase == .ended }

    init(_ container: Container) throws(ContentDecodingError) {
        self.container = container
        self.coding = container == .gzip ? .gzip : .deflate
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        phase = container == .gzip ? .inflating : .sniffing(firstByte: nil)
        if container == .gzip {
            // 15 + 16: a 32 KiB window, gzip framing only.
            try start(windowBits: 15 + 16)
        }
    }

    deinit {
        if isStreamInitialized {
            inflateEnd(stream)
        }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    func decode(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>
    ) throws(ContentDecodingError) -> DecodeStep {
        guard case .sniffing(let firstByte) = phase else { return try inflate(input, into: output) }
        guard let firstByte else {
            guard input.count >= 2 else {
                if let byte = input.first { phase = .sniffing(firstByte: byte) }
                return DecodeStep(consumed: input.count, produced: 0)
            }
            try start(windowBits: Self.isZlibHeader(input[0], input[1]) ? 15 : -15)
            return try inflate(input, into: output)
        }
        guard let secondByte = input.first else { return DecodeStep(consumed: 0, produced: 0) }
        try start(windowBits: Self.isZlibHeader(firstByte, secondByte) ? 15 : -15)
        // The held byte was reported consumed when it arrived; inflate it before the new input.
        let held = try withUnsafeBytes(of: firstByte) { byte throws(ContentDecodingError) in
            try inflate(byte, into: output)
        }
        let rest = try inflate(input, into: output.extracting(held.produced...))
        return DecodeStep(consumed: rest.consumed, produced: held.produced + rest.produced)
    }

    /// Whether two bytes open an RFC 1950 stream: method 8, window at most 2^15, check bits valid.
    static func isZlibHeader(_ cmf: UInt8, _ flg: UInt8) -> Bool {
        cmf & 0x0F == 8 && cmf >> 4 <= 7 && (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0
    }

    private func start(windowBits: Int32) throws(ContentDecodingError) {
        let code = czlib_inflate_init2(stream, windowBits)
        guard code == Z_OK else {
            // Z_MEM_ERROR, or a zlib too old for these headers; neither depends on the input.
            throw .outOfMemory
        }
        isStreamInitialized = true
        phase = .inflating
    }

    private func inflate(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>
    ) throws(ContentDecodingError) -> DecodeStep {
        var step = DecodeStep(consumed: 0, produced: 0)
        while step.produced < output.count {
            if phase == .ended {
                guard container == .gzip else {
                    guard step.consumed == input.count else {
                        throw .corrupt(coding: coding, detail: "data follows the end of the stream")
                    }
                    break
                }
                // Zero bytes after a member are padding, as gzip(1) and Python read them.
                while step.consumed < input.count && input[step.consumed] == 0 { step.consumed += 1 }
                guard step.consumed < input.count else { break }
                // Anything else must open another member (zlib checks the second magic byte itself):
                // the body is then the members' concatenation (RFC 1952, section 2.2).
                guard input[step.consumed] == 0x1F else {
                    throw .corrupt(coding: coding, detail: "data follows the end of the stream")
                }
                guard inflateReset(stream) == Z_OK else { throw .outOfMemory }
                phase = .inflating
            }
            let availableIn = UInt32(clamping: input.count - step.consumed)
            let availableOut = UInt32(clamping: output.count - step.produced)
            stream.pointee.next_in = input.baseAddress.map {
                // zlib only reads the input, so its bound type does not matter.
                ($0 + step.consumed).assumingMemoryBound(to: UInt8.self)
            }
            stream.pointee.avail_in = availableIn
            stream.pointee.next_out = output.baseAddress.map { $0 + step.produced }
            stream.pointee.avail_out = availableOut
            let code = CZlib.inflate(stream, Z_NO_FLUSH)
            let consumed = Int(availableIn - stream.pointee.avail_in)
            let produced = Int(availableOut - stream.pointee.avail_out)
            step.consumed += consumed
            step.produced += produced
            switch code {
            case Z_STREAM_END:
                phase = .ended
            case Z_OK, Z_BUF_ERROR:
                // Z_BUF_ERROR only means no progress was possible: the input is used up.
                if consumed == 0 && produced == 0 { return step }
            case Z_NEED_DICT:
                throw .corrupt(coding: coding, detail: "it needs a preset dictionary")
            case Z_MEM_ERROR:
                throw .outOfMemory
            default:
                throw .corrupt(coding: coding, detail: zlibMessage ?? "invalid compressed data")
            }
        }
        return step
    }

    /// zlib's own description of a data error ("incorrect header check", "invalid distance too far back").
    private var zlibMessage: String? {
        guard let message = stream.pointee.msg else { return nil }
        return String(cString: message)
    }
}
