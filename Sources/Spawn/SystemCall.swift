#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A failed system call: the call's name and `errno`.
public struct SystemCallError: Error, CustomStringConvertible, Sendable, Equatable {
    public let call: String
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// Runs a system call that reports failure as `-1` and `errno`, retrying on `EINTR`: the one place
/// fetchq retries an interrupted call.
public func systemCall(_ name: String, _ call: () -> Int) throws(SystemCallError) -> Int {
    while true {
        let result = call()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemCallError(call: name, errno: code)
    }
}

/// Checks a call that returns its error number instead of setting `errno` (the `posix_spawn`
/// family, `pthread_*`).
func checkReturnedError(_ name: String, _ code: Int32) throws(SystemCallError) {
    if code != 0 { throw SystemCallError(call: name, errno: code) }
}
