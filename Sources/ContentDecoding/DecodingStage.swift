/// One layer of content coding, undone by a C library into a buffer the caller bounds.
protocol DecodingStage: AnyObject {
    /// The coding this stage undoes, for errors.
    var coding: ContentCoding { get }

    /// Whether the input so far ends on the end of a complete stream.
    var isAtEnd: Bool { get }

    /// Decodes from `input` into `output` until the input is used up or the output is full.
    ///
    /// Bytes not consumed must be offered again. Output is only cut short by a full buffer, so when
    /// `produced < output.count` the stage holds nothing more for the input it was given.
    func decode(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>
    ) throws(ContentDecodingError) -> DecodeStep
}

/// How far one ``DecodingStage/decode(_:into:)`` call got.
struct DecodeStep {
    var consumed: Int
    var produced: Int
}
