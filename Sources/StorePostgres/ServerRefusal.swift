import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#endif

/// Whether the PostgreSQL server is known to be gone, as opposed to slow: its port refuses
/// connections, or it closed them. `PostgresStore`'s listener learns it first (it reconnects at
/// once when its connection closes); while it holds, every store call answers `unavailable` at
/// once instead of waiting out the deadline for a connection the pool cannot make, and nothing
/// is left waiting to run when the server comes back. A slow but live server is not refusing:
/// calls keep their deadline.
final class ServerRefusal: Sendable {
    private let reason = NIOLockedValueBox<String?>(nil)

    /// Why the server counts as gone; nil while it does not.
    var current: String? { reason.withLockedValue { $0 } }

    func refused(_ why: String) { reason.withLockedValue { $0 = why } }

    func accepted() { reason.withLockedValue { $0 = nil } }

    /// Whether `error`, met opening or using a connection, says the server is not there.
    static func isRefusal(_ error: any Error) -> Bool {
        if let psql = error as? PSQLError {
            if psql.code == .serverClosedConnection || psql.code == .uncleanShutdown { return true }
            return psql.underlying.map(isRefusal) ?? false
        }
        if let connection = error as? NIOConnectionError {
            // No address at all, or every address tried refused.
            return connection.connectionErrors.isEmpty || connection.connectionErrors.allSatisfy { isRefusal($0.error) }
        }
        if let io = error as? IOError {
            return [ECONNREFUSED, ECONNRESET, ENETUNREACH, EHOSTUNREACH].contains(io.errnoCode)
        }
        if let channel = error as? ChannelError { return channel == .eof || channel == .ioOnClosedChannel }
        return false
    }
}
