import Foundation

/// A stored response body.
public struct StoredBody: Sendable {
    public let contentType: String?
    public let bytes: [UInt8]

    public init(contentType: String?, bytes: [UInt8]) {
        self.contentType = contentType
        self.bytes = bytes
    }
}
