#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The parent's end of a pipe to a child's standard stream. It is closed once: by `close()`, or
/// when the last reference goes.
public final class PipeEnd: Sendable {
    public let descriptor: Int32
    private let closed = Locked(false)

    init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close() }

    /// Closes the descriptor; later calls do nothing. For a child's standard input this is its end
    /// of file.
    public func close() {
        let wasClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        _ = Glibc.close(descriptor)
    }

    /// Writes all of `bytes`.
    public func write(_ bytes: some Collection<UInt8>) throws(SystemCallError) {
        let array = Array(bytes)
        let written = array.withUnsafeBytes { buffer in
            Result { () throws(SystemCallError) in
                var offset = 0
                while offset < buffer.count {
                    offset += try systemCall("write") {
                        Glibc.write(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                    }
                }
            }
        }
        try written.get()
    }

    /// Reads what is there, up to `limit` bytes, waiting for at least one; empty at end of file.
    public func read(upTo limit: Int = 64 * 1024) throws(SystemCallError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: limit)
        let count = try bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(SystemCallError) in
                try systemCall("read") { Glibc.read(descriptor, buffer.baseAddress, buffer.count) }
            }
        }.get()
        bytes.removeSubrange(count...)
        return bytes
    }

    /// Reads until end of file.
    public func readToEnd() throws(SystemCallError) -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = try read()
            if chunk.isEmpty { return all }
            all += chunk
        }
    }
}
