internal import CBrotli

/// Undoes `br` with brotli's streaming decoder, owning one decoder instance from init to deinit.
final class BrotliDecompressor: DecodingStage {
    let coding = ContentCoding.br
    private let state: OpaquePointer
    private(set) var isAtEnd = false

    init() throws(ContentDecodingError) {
        guard let state = BrotliDecoderCreateInstance(nil, nil, nil) else { throw .outOfMemory }
        self.state = state
    }

    deinit {
        BrotliDecoderDestroyInstance(state)
    }

    func decode(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>
    ) throws(ContentDecodingError) -> DecodeStep {
        if isAtEnd {
            guard input.isEmpty else { throw .corrupt(coding: coding, detail: "data follows the end of the stream") }
            return DecodeStep(consumed: 0, produced: 0)
        }
        var availableIn = input.count
        // brotli only reads the input, so its bound type does not matter.
        var nextIn = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var availableOut = output.count
        var nextOut = output.baseAddress
        while true {
            let before = (availableIn, availableOut)
            let result = BrotliDecoderDecompressStream(state, &availableIn, &nextIn, &availableOut, &nextOut, nil)
            switch result {
            case BROTLI_DECODER_RESULT_SUCCESS:
                isAtEnd = true
                guard availableIn == 0 else {
                    throw .corrupt(coding: coding, detail: "data follows the end of the stream")
                }
            case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT
            where availableOut > 0 && (availableIn, availableOut) != before:
                // Output left over from the ring buffer; ask again until the buffer is full.
                continue
            case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT, BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
                break
            default:
                throw error(for: BrotliDecoderGetErrorCode(state))
            }
            return DecodeStep(consumed: input.count - availableIn, produced: output.count - availableOut)
        }
    }

    private func error(for code: BrotliDecoderErrorCode) -> ContentDecodingError {
        switch code {
        case BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES, BROTLI_DECODER_ERROR_ALLOC_TREE_GROUPS,
            BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MAP, BROTLI_DECODER_ERROR_ALLOC_RING_BUFFER_1,
            BROTLI_DECODER_ERROR_ALLOC_RING_BUFFER_2, BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES:
            .outOfMemory
        case BROTLI_DECODER_ERROR_FORMAT_WINDOW_BITS:
            .corrupt(coding: coding, detail: "invalid window size")
        case BROTLI_DECODER_ERROR_FORMAT_PADDING_1, BROTLI_DECODER_ERROR_FORMAT_PADDING_2:
            .corrupt(coding: coding, detail: "nonzero padding bits")
        case BROTLI_DECODER_ERROR_FORMAT_DISTANCE:
            .corrupt(coding: coding, detail: "invalid distance too far back")
        case BROTLI_DECODER_ERROR_FORMAT_DICTIONARY, BROTLI_DECODER_ERROR_FORMAT_TRANSFORM:
            .corrupt(coding: coding, detail: "invalid dictionary reference")
        default:
            .corrupt(coding: coding, detail: "invalid compressed data")
        }
    }
}
