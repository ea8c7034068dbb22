import Foundation
import NIOConcurrencyHelpers
import Spawn

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes whole frames to a pipe; concurrent writers are serialised so frames never interleave.
final class FrameWriter: Sendable {
    private let descriptor: Int32
    private let lock = NIOLock()

    init(descriptor: Int32) { self.descriptor = descriptor }

    func write(_ bytes: [UInt8]) throws {
        try lock.withLock {
            try bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    offset += try systemCall("write") {
                        Glibc.write(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                    }
                }
            }
        }
    }
}

/// Reads frames from a pipe on a thread of its own until end of file, handing each payload on.
enum FrameReader {
    /// Starts the reader thread. `onPayload` runs on that thread; `onEnd` runs once, last, with the
    /// error that stopped reading (nil at a clean end of file).
    static func start(
        descriptor: Int32, name: String,
        onPayload: @escaping @Sendable (ArraySlice<UInt8>) throws -> Void,
        onEnd: @escaping @Sendable ((any Error)?) -> Void
    ) {
        let thread = Thread {
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 256 * 1024)
            do {
                while true {
                    let count = try chunk.withUnsafeMutableBytes { buffer throws(SystemCallError) in
                        try systemCall("read") { Glibc.read(descriptor, buffer.baseAddress, buffer.count) }
                    }
                    if count == 0 { break }
                    pending.append(contentsOf: chunk[0..<count])
                    try WireCodec.drainFrames(&pending, onPayload)
                }
                onEnd(pending.isEmpty ? nil : WireError("pipe closed inside a frame"))
            } catch {
                onEnd(error)
            }
        }
        thread.name = name
        thread.start()
    }
}
