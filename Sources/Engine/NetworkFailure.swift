import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a network error from SwiftNIO or AsyncHTTPClient means, as one short sentence of fetchq's
/// own: "connection refused", "no address for host example.invalid". The libraries' descriptions
/// carry errno numbers, system call signatures and type names, which mean nothing to a user; only
/// the error's kind and code are read here. Shown in a task's `error_message`, a host's
/// `last_error`, a webhook delivery's `last_error` and the CLI's "cannot reach" line.
public enum NetworkFailure {
    public static let closedBeforeAnswering = "the server closed the connection before answering"

    /// The sentence for `error`, met while talking to `host`.
    public static func sentence(for error: any Error, host: String) -> String {
        if let connection = error as? NIOConnectionError {
            // Every address tried failed; the last attempt's error stands for them.
            if let attempt = connection.connectionErrors.last { return sentence(for: attempt.error, host: host) }
            return "no address for host \(connection.host)"
        }
        if let unknown = error as? SocketAddressError.UnknownHost { return "no address for host \(unknown.host)" }
        if error is SocketAddressError { return "no address for host \(host)" }
        if let io = error as? IOError { return sentence(errno: io.errnoCode) }
        if let client = error as? HTTPClientError { return sentence(for: client, host: host) }
        if let channel = error as? ChannelError { return sentence(for: channel) }
        if error is HTTPParserError { return "the server's answer is not valid HTTP" }
        return "the connection to \(host) failed"
    }

    /// Whether `error` says that nothing listens at the address (the connection was refused).
    public static func isConnectionRefused(_ error: any Error) -> Bool {
        if let connection = error as? NIOConnectionError, let attempt = connection.connectionErrors.last {
            return isConnectionRefused(attempt.error)
        }
        return (error as? IOError)?.errnoCode == ECONNREFUSED
    }

    /// The sentence for a failed system call's `errno`.
    static func sentence(errno code: Int32) -> String {
        switch code {
        case ECONNREFUSED: "connection refused"
        case ECONNRESET: "connection reset by the server"
        case ENETUNREACH: "network unreachable"
        case EHOSTUNREACH: "host unreachable"
        case ETIMEDOUT: "the connection timed out"
        case EPIPE, ECONNABORTED: closedBeforeAnswering
        case EADDRNOTAVAIL: "no local address is free to connect from"
        case EMFILE, ENFILE: "too many open files to open a connection"
        default: "the connection failed with system error \(code)"
        }
    }

    private static func sentence(for error: HTTPClientError, host: String) -> String {
        switch error {
        case .remoteConnectionClosed: closedBeforeAnswering
        case .connectTimeout, .getConnectionFromPoolTimeout: "no connection to \(host) in time"
        case .readTimeout: "the server stopped sending before the answer was complete"
        case .bodyLengthMismatch: "the answer's body did not match its Content-Length"
        case .invalidURL, .emptyHost, .emptyScheme: "the URL cannot be fetched"
        case .cancelled: "the request was canceled"
        default: "the server's answer could not be read"
        }
    }

    private static func sentence(for error: ChannelError) -> String {
        switch error {
        case .connectTimeout: "the connection timed out"
        case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed: closedBeforeAnswering
        default: "the connection failed"
        }
    }
}
