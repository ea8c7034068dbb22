import AsyncHTTPClient
import NIOSSL

/// What a TLS error from NIOSSL or AsyncHTTPClient means to a user. A certificate that does not
/// verify, a host name it does not cover, or a handshake that fails is `tls_error`, which another
/// attempt does not fix; a handshake cut short (a reset, an early close, a timeout) is a
/// connection failure, retried like any other. Messages are fetchq's own short causes: BoringSSL's
/// texts carry source paths of the machine NIOSSL was built on, so only its reason codes are read.
enum TLSFailure {
    /// BoringSSL's reason when a chain does not verify; its error says no more than that.
    static let unverifiedChain = "CERTIFICATE_VERIFY_FAILED"

    /// The failure `error` stands for, or nil if it is not a TLS error. `host` is the name the
    /// certificate was checked against.
    static func failure(for error: any Error, host: String) -> FetchFailure? {
        if let extra = error as? NIOSSLExtraError {
            switch extra {
            case .failedToValidateHostname, .serverHostnameImpossibleToMatch:
                return FetchFailure(.tlsError, "certificate does not match host name \(host)")
            default:
                return FetchFailure(.tlsError, "TLS setup failed")
            }
        }
        if let client = error as? HTTPClientError, client == .tlsHandshakeTimeout {
            return FetchFailure(.connectionFailed, "the TLS handshake did not finish in time")
        }
        guard let error = error as? NIOSSLError else { return nil }
        switch error {
        case .handshakeFailed(.sslError(let stack)), .handshakeFailed(.unknownError(let stack)):
            return failure(for: stack)
        case .handshakeFailed(.syscallError), .handshakeFailed(.zeroReturn):
            return FetchFailure(.connectionFailed, "the connection broke during the TLS handshake")
        case .uncleanShutdown:
            return FetchFailure(.connectionFailed, "the server closed the TLS connection without a close_notify")
        case .noCertificateToValidate:
            return FetchFailure(.tlsError, "the server sent no certificate")
        case .unableToValidateCertificate:
            return FetchFailure(.tlsError, "certificate does not verify")
        default:
            return FetchFailure(.tlsError, "TLS handshake failed")
        }
    }

    /// Whether `error` is a chain that did not verify, whose cause `CertificateDiagnosis` finds.
    static func isUnverifiedChain(_ error: any Error) -> Bool {
        guard case .handshakeFailed(.sslError(let stack)) = error as? NIOSSLError else { return false }
        return stack.contains { reason(of: $0) == unverifiedChain }
    }

    private static func failure(for stack: NIOBoringSSLErrorStack) -> FetchFailure {
        if stack.contains(.eofDuringHandshake) {
            return FetchFailure(.connectionFailed, "the connection closed during the TLS handshake")
        }
        let reasons = stack.compactMap(reason(of:))
        if reasons.contains(unverifiedChain) { return FetchFailure(.tlsError, "certificate does not verify") }
        guard let reason = reasons.first else { return FetchFailure(.tlsError, "TLS handshake failed") }
        let message: String =
            switch reason {
            case "WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNKNOWN_PROTOCOL": "the server does not speak TLS"
            case "TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL": "no TLS version in common with the server"
            case "NO_SHARED_CIPHER", "NO_CIPHER_MATCH", "SSLV3_ALERT_HANDSHAKE_FAILURE":
                "the server refused the TLS handshake"
            default: "TLS handshake failed: " + reason.lowercased().replacing("_", with: " ")
            }
        return FetchFailure(.tlsError, message)
    }

    /// BoringSSL's reason code in one of its errors (`CERTIFICATE_VERIFY_FAILED` in "Error: 268435581
    /// error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at /path/file.cc:123"),
    /// or nil if there is none: never the path.
    static func reason(of error: BoringSSLInternalError) -> String? {
        let text = error.description
        guard let start = text.range(of: "error:") else { return nil }
        // code:library:OPENSSL_internal:REASON, then " at PATH:LINE".
        let fields = text[start.upperBound...].split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4 else { return nil }
        let reason = fields[3].prefix { $0 != " " }
        guard !reason.isEmpty, reason.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) else { return nil }
        return String(reason)
    }
}
