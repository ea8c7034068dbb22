/// Brings rules and paths to one spelling before they are compared (RFC 9309 §2.2.2), so that
/// `/%7Ejoe` and `/~joe`, or `/a%3cd` and `/a%3Cd`, or `/fée` and `/f%C3%A9e`, are the same.
///
/// - an escape of an unreserved character (`A–Z a–z 0–9 - . _ ~`) becomes that character;
/// - any other escape keeps its meaning and gets uppercase hex digits;
/// - an octet outside ASCII is escaped;
/// - everything else, including `*`, `$` and a `%` not followed by two hex digits, is kept.
enum RobotsPercentEncoding {
    static func normalized(_ input: some Collection<UInt8>) -> [UInt8] {
        let bytes = Array(input)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                let decoded = high << 4 | low
                if isUnreserved(decoded) {
                    output.append(decoded)
                } else {
                    appendEscape(of: decoded, to: &output)
                }
                index += 3
            } else {
                if byte >= 0x80 {
                    appendEscape(of: byte, to: &output)
                } else {
                    output.append(byte)
                }
                index += 1
            }
        }
        return output
    }

    private static func appendEscape(of byte: UInt8, to output: inout [UInt8]) {
        let digits = Array("0123456789ABCDEF".utf8)
        output.append(UInt8(ascii: "%"))
        output.append(digits[Int(byte >> 4)])
        output.append(digits[Int(byte & 0x0F)])
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// RFC 3986 §2.3 unreserved characters.
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
    }
}
