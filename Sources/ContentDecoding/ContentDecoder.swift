/// Decodes a response body chunk by chunk as it arrives, stopping at a cap on the decoded size.
///
/// Each coding decodes into its own fixed 64 KiB buffer and the innermost one into at most what the
/// cap still allows plus one byte, so a small body that inflates to gigabytes costs `limit` bytes of
/// output and a few fixed buffers, and decompression stops as soon as the cap is passed. The extra
/// byte is how the decoder tells "exactly `limit` bytes" (`.finished`) from "more" (`.limitReached`).
///
/// The zlib and brotli state is freed when the decoder is released. One owner feeds it; it is not
/// `Sendable`.
public final class ContentDecoder {
    /// Stacked codings are legal but rare; each one costs a buffer and a decoder, so a header cannot
    /// make the client allocate without bound.
    public static let maximumStackedCodings = 4

    /// The bounded buffer each stage decodes into.
    static let windowSize = 64 * 1024

    /// Where the decoder stands; the last two states are final.
    private enum State {
        case decoding
        /// The cap was passed; input is ignored from now on.
        case limitReached
        /// A stage failed; zlib and brotli cannot resume after a data error, so the error repeats.
        case failed(ContentDecodingError)
    }

    /// A coding's stage and the buffer its output lands in before the next stage reads it.
    private struct Layer {
        let stage: any DecodingStage
        let window: ScratchBuffer
    }

    /// The codings in header order.
    public let codings: [ContentCoding]
    /// The most decoded bytes this decoder appends, over all calls.
    public let limit: Int
    /// The decoded bytes appended so far.
    public private(set) var decodedByteCount = 0

    /// Outermost first: the coding applied last is undone first.
    private let layers: [Layer]
    private var state = State.decoding
    private var hasReceivedInput = false

    /// Prepares to undo `codings`, given in header order; an empty list passes bytes through.
    /// - Parameter limit: the most decoded bytes to produce; must not be negative.
    public init(codings: [ContentCoding], limit: Int) throws(ContentDecodingError) {
        precondition(limit >= 0, "a decoded-size limit cannot be negative")
        guard codings.count <= Self.maximumStackedCodings else { throw .tooManyCodings(codings.count) }
        var layers: [Layer] = []
        for (position, coding) in codings.reversed().enumerated() {
            let stage: any DecodingStage =
                switch coding {
                case .gzip: try ZlibInflater(.gzip)
                case .deflate: try ZlibInflater(.deflate)
                case .br: try BrotliDecompressor()
                }
            let isInnermost = position == codings.count - 1
            // The innermost window never needs more than the cap and its one byte of look-ahead.
            let capacity = isInnermost ? min(Self.windowSize, limit) + 1 : Self.windowSize
            layers.append(Layer(stage: stage, window: ScratchBuffer(capacity: capacity)))
        }
        self.codings = codings
        self.limit = limit
        self.layers = layers
    }

    /// Feeds the next chunk of the body and appends what it decodes to `output`, up to `limit` in total.
    public func feed(
        _ chunk: UnsafeRawBufferPointer, into output: inout [UInt8]
    ) throws(ContentDecodingError) -> DecodeProgress {
        switch state {
        case .limitReached: return .limitReached
        case .failed(let error): throw error
        case .decoding: break
        }
        hasReceivedInput = hasReceivedInput || !chunk.isEmpty
        do {
            guard try push(chunk, through: 0, into: &output) else {
                state = .limitReached
                return .limitReached
            }
        } catch {
            state = .failed(error)
            throw error
        }
        return isAtEnd ? .finished : .more
    }

    /// Feeds the next chunk of the body from any byte collection (an array, a slice, `Data`).
    public func feed(
        _ chunk: some Collection<UInt8>, into output: inout [UInt8]
    ) throws(ContentDecodingError) -> DecodeProgress {
        let result = chunk.withContiguousStorageIfAvailable { bytes in
            Result { () throws(ContentDecodingError) in try feed(UnsafeRawBufferPointer(bytes), into: &output) }
        }
        guard let result else { return try feed(Array(chunk), into: &output) }
        return try result.get()
    }

    /// Declares the body complete; throws `.truncatedStream` if a compressed stream is unfinished.
    ///
    /// A body cut at the cap is not an error: the caller already knows it is truncated. An empty body
    /// is accepted as empty, because servers label empty answers `Content-Encoding: gzip` too.
    public func finish() throws(ContentDecodingError) {
        switch state {
        case .limitReached: return
        case .failed(let error): throw error
        case .decoding: break
        }
        guard hasReceivedInput else { return }
        if let unfinished = layers.first(where: { !$0.stage.isAtEnd }) {
            throw .truncatedStream(unfinished.stage.coding)
        }
    }

    /// Whether every stage has seen a complete stream; never for identity, which has no end marker.
    private var isAtEnd: Bool {
        !layers.isEmpty && layers.allSatisfy { $0.stage.isAtEnd }
    }

    /// Runs `input` through the layer at `index` and every layer inside it; false once the cap is passed.
    private func push(
        _ input: UnsafeRawBufferPointer, through index: Int, into output: inout [UInt8]
    ) throws(ContentDecodingError) -> Bool {
        guard index < layers.count else { return deliver(input, into: &output) }
        let layer = layers[index]
        let isInnermost = index == layers.count - 1
        var rest = input
        while true {
            let window =
                isInnermost
                ? layer.window.bytes.extracting(..<(min(layer.window.bytes.count - 1, limit - decodedByteCount) + 1))
                : layer.window.bytes
            let step = try layer.stage.decode(rest, into: window)
            rest = UnsafeRawBufferPointer(rebasing: rest[step.consumed...])
            if step.produced > 0 {
                let decoded = UnsafeRawBufferPointer(window.extracting(..<step.produced))
                guard try push(decoded, through: index + 1, into: &output) else { return false }
            }
            let isWindowFull = step.produced == window.count
            if rest.isEmpty && !isWindowFull { return true }
            if step.consumed == 0 && step.produced == 0 {
                // Every stage consumes or produces while it has input and room; never spin if one does not.
                throw .corrupt(coding: layer.stage.coding, detail: "decoding stopped making progress")
            }
        }
    }

    /// Appends decoded bytes up to the cap; false when they go past it.
    private func deliver(_ decoded: UnsafeRawBufferPointer, into output: inout [UInt8]) -> Bool {
        let remaining = limit - decodedByteCount
        let accepted = min(decoded.count, remaining)
        reserve(accepted, in: &output, remaining: remaining)
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: decoded[..<accepted]))
        decodedByteCount += accepted
        return decoded.count <= remaining
    }

    /// Grows `output` geometrically as `Array` would, but never past what the cap can still add:
    /// doubling on its own would let a capped body hold up to twice `limit` bytes of capacity. (While
    /// it grows, the old buffer lives beside the new one, as with any array growth.)
    private func reserve(_ count: Int, in output: inout [UInt8], remaining: Int) {
        let needed = output.count + count
        guard needed > output.capacity else { return }
        let (ceiling, overflow) = output.count.addingReportingOverflow(remaining)
        let doubled = output.capacity.multipliedReportingOverflow(by: 2)
        let grown = max(needed, doubled.overflow ? Int.max : doubled.partialValue)
        output.reserveCapacity(min(grown, overflow ? Int.max : ceiling))
    }
}
