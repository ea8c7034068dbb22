/// ASCII helpers for a format whose keywords and product tokens are ASCII but whose values may
/// hold any octets; working on octets keeps a stray invalid UTF-8 byte from changing the result.
enum RobotsASCII {
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    /// The slice without leading and trailing spaces and tabs.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let first = bytes.firstIndex(where: { !isWhitespace($0) }),
            let last = bytes.lastIndex(where: { !isWhitespace($0) })
        else { return bytes[bytes.endIndex...] }
        return bytes[first...last]
    }

    /// The octets as a string with only `A`–`Z` lowercased, so no locale or Unicode rule applies.
    static func lowercased(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes.map(lowercased), as: UTF8.self)
    }

    static func lowercased(_ text: String) -> String {
        lowercased(text.utf8)
    }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }
}
