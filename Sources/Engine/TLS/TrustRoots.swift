import Foundation
import NIOSSL

/// Certificate authorities trusted on top of the system's (`--ca-file`), for fetches and webhook
/// deliveries alike. Read and checked once, when the setting is read: a file that is missing or
/// holds no PEM certificate stops start-up instead of failing every https request later.
public struct TrustRoots: Sendable {
    /// The file, as an absolute path: workers are given it on their command line and may run
    /// from another directory.
    public let path: String
    let certificates: [NIOSSLCertificate]

    public init(path: String) throws(TrustRootsError) {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard let contents = FileManager.default.contents(atPath: absolute) else {
            throw TrustRootsError(
                FileManager.default.fileExists(atPath: absolute) ? "the file cannot be read" : "no such file")
        }
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(Array(contents))
        } catch {
            throw TrustRootsError("no PEM certificate in it")
        }
        self.path = absolute
    }

    /// The same roots as `fetchq worker` options.
    public var arguments: [String] { ["--ca-file", path] }
}

/// Why a `--ca-file` cannot be used.
public struct TrustRootsError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}

extension TLSConfiguration {
    /// What every outgoing connection of fetchq uses: full verification of the chain and of the
    /// host name, against the system's roots plus `extra`.
    static func fetchqClient(trusting extra: TrustRoots?) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let extra { configuration.additionalTrustRoots = [.certificates(extra.certificates)] }
        return configuration
    }
}
