import Crypto
import Foundation

/// Signs webhook bodies the way the Standard Webhooks specification describes: HMAC-SHA256 over
/// `"{webhook-id}.{webhook-timestamp}.{body}"` with the secret's bytes, sent as `v1,<base64>`.
public struct WebhookSigner: Sendable {
    public static let prefix = "whsec_"
    /// The key's bytes; a `SymmetricKey` is made per signature since it is not `Sendable`.
    private let keyBytes: [UInt8]

    /// Accepts `whsec_<base64>` (or bare base64) of 24 to 64 bytes.
    public init?(secret: String) {
        let encoded = secret.hasPrefix(Self.prefix) ? String(secret.dropFirst(Self.prefix.count)) : secret
        guard let bytes = Data(base64Encoded: encoded), (24...64).contains(bytes.count) else { return nil }
        keyBytes = Array(bytes)
    }

    /// A new random secret in the `whsec_` form.
    public static func generateSecret() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return prefix + bytes.base64EncodedString()
    }

    public func signature(id: String, timestamp: Int, body: [UInt8]) -> String {
        var content = Array("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: keyBytes))
        return "v1," + Data(mac).base64EncodedString()
    }
}
