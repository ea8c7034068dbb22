/// A fixed buffer one stage decodes into, so that no stage ever holds more than its capacity of output.
///
/// A class rather than an array so that the decoder can hand one stage's buffer to the next stage
/// while writing into that next stage's own buffer: pointers into separate allocations, no
/// overlapping access to one array.
final class ScratchBuffer {
    let bytes: UnsafeMutableBufferPointer<UInt8>

    init(capacity: Int) {
        bytes = .allocate(capacity: capacity)
        bytes.initialize(repeating: 0)
    }

    deinit {
        bytes.deallocate()
    }
}
