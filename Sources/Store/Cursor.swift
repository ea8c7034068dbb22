import Foundation

/// Opaque page cursors: base64url of the last row's position. Users never see bare row numbers.
package enum Cursor {
    package static func encode(_ seq: Int64) -> String {
        Data("t\(seq)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    package static func decode(_ text: String) throws -> Int64 {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard text.count <= 32, let data = Data(base64Encoded: base64),
            let decoded = String(data: data, encoding: .utf8), decoded.first == "t",
            let seq = Int64(decoded.dropFirst()), seq >= 0
        else { throw StoreError(.invalidCursor, "the cursor is not one this service issued") }
        return seq
    }
}
