import Foundation
import Spawn

/// Certificates for the TLS tests, made by the `openssl` command in a directory the caller owns:
/// a certificate authority that `--ca-file` trusts, and server certificates for 127.0.0.1.
public struct TestCertificates: Sendable {
    /// A server's certificate chain and private key, as PEM files.
    public struct Identity: Sendable {
        public let chain: String
        public let key: String
    }

    /// The trusted authority's certificate: what `--ca-file` is given.
    public let authority: String
    /// For 127.0.0.1 and localhost, issued by the authority, valid for a year.
    public let valid: Identity
    /// For 127.0.0.1, issued by the authority, past its end (it ended a day after it began, today).
    public let expired: Identity
    /// For wrong.example only, issued by the authority.
    public let wrongName: Identity
    /// For 127.0.0.1, issued by another authority that nothing trusts.
    public let unknownIssuer: Identity

    public init(in directory: URL) throws {
        let base = directory.path
        authority = try Self.makeAuthority(named: "trusted", in: base)
        _ = try Self.makeAuthority(named: "stranger", in: base)
        let loopback = "subjectAltName=IP:127.0.0.1,DNS:localhost"
        valid = try Self.issue("valid", names: loopback, days: 365, by: "trusted", in: base)
        expired = try Self.issue("expired", names: loopback, days: -1, by: "trusted", in: base)
        wrongName = try Self.issue(
            "wrong-name", names: "subjectAltName=DNS:wrong.example", days: 365, by: "trusted", in: base)
        unknownIssuer = try Self.issue("unknown-issuer", names: loopback, days: 365, by: "stranger", in: base)
    }

    /// A self-signed authority, `NAME-ca.pem` with its key `NAME-ca.key`; answers the certificate's path.
    private static func makeAuthority(named name: String, in base: String) throws -> String {
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "\(base)/\(name)-ca.key", "-out", "\(base)/\(name)-ca.pem", "-days", "365",
            "-subj", "/CN=fetchq test authority \(name)",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        return "\(base)/\(name)-ca.pem"
    }

    /// A server certificate for `names` (an extension line), valid for `days` from now (negative:
    /// it ended before now), issued by the authority `issuer`. The chain holds the server's
    /// certificate only: the client must know the authority.
    private static func issue(_ name: String, names: String, days: Int, by issuer: String, in base: String) throws
        -> Identity
    {
        let key = "\(base)/\(name).key"
        let extensions = "\(base)/\(name).ext"
        try Data("\(names)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n".utf8)
            .write(to: URL(fileURLWithPath: extensions))
        try openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", "\(base)/\(name).csr", "-subj", "/CN=fetchq test \(name)",
        ])
        try openssl([
            "x509", "-req", "-in", "\(base)/\(name).csr", "-CA", "\(base)/\(issuer)-ca.pem",
            "-CAkey", "\(base)/\(issuer)-ca.key", "-CAcreateserial", "-CAserial", "\(base)/\(issuer)-ca.srl",
            "-out", "\(base)/\(name).pem", "-days", "\(days)", "-extfile", extensions,
        ])
        return Identity(chain: "\(base)/\(name).pem", key: key)
    }

    private static func openssl(_ arguments: [String]) throws {
        let run = try ChildProcess.run(
            .init(executable: "openssl", arguments: arguments, standardOutput: .null, standardError: .pipe))
        guard run.termination == .exited(0) else {
            throw ServiceProcessError("openssl \(arguments.joined(separator: " ")) failed: \(run.errorText)")
        }
    }
}
