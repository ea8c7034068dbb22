import Foundation

/// A stored response body, as the server sent it.
public struct StoredBody: Sendable {
    public let contentType: String?
    /// The response's `Content-Encoding` (`gzip`, `br`): the bytes are encoded so, and are served
    /// with it. Read from the stored response headers, not stored beside the body.
    public let contentEncoding: String?
    public let bytes: [UInt8]

    public init(contentType: String?, contentEncoding: String? = nil, bytes: [UInt8]) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.bytes = bytes
    }

    /// The `Content-Encoding` of stored response headers (their JSON text), when it names one and
    /// fetchq did not remove it (`decodedFrom`: the body is stored decoded).
    package static func contentEncoding(ofStoredHeaders text: String?, decodedFrom: String? = nil) -> String? {
        guard decodedFrom == nil else { return nil }
        // Most responses have none: a look for the name's letters first spares decoding their headers.
        guard let text, text.utf8.count > 2, text.contains("ncoding") else { return nil }
        let value = HeaderCoding.decode(text).value(named: "content-encoding")?.trimmingCharacters(in: .whitespaces)
        return value.flatMap { $0.isEmpty || $0.lowercased() == "identity" ? nil : $0 }
    }
}
