import Foundation
import JSON

/// How a submission's URLs are read: an absolute http(s) URL with a host, its `host[:port]` (the
/// unit of per-host limits) and its host as written (for the destination guard). Plain URLs, nearly
/// all of them, are read byte by byte; anything else goes through `URLComponents`.
extension SubmissionParser {
    /// An absolute http(s) URL with a host; answers it, its lower-cased `host[:port]` (the unit of
    /// per-host limits), and its host as written (for the destination guard).
    static func url(
        _ value: JSONValue, at field: @autoclosure () -> String, limit: Int
    ) throws(Problem) -> (url: String, hostAndPort: String, host: String) {
        guard case .string(let text) = value else {
            throw Problem.invalidField(field(), "`url` must be a string, not \(value.typeName).")
        }
        guard text.utf8.count <= limit else {
            throw Problem.invalidField(field(), "The URL is longer than \(limit) bytes.")
        }
        guard let (hostAndPort, host) = plainHTTPURL(text) ?? parsedHTTPURL(text) else {
            throw Problem.invalidField(field(), "The URL must be an absolute http:// or https:// URL with a host.")
        }
        return (text, hostAndPort, host)
    }

    /// `hostAndPort` and `host` of `url(_:at:limit:)` as URLComponents reads them; nil if `text` is
    /// not an absolute http(s) URL with a host and a valid port, or holds white space.
    static func parsedHTTPURL(_ text: String) -> (hostAndPort: String, host: String)? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            components.port.map({ (1...65535).contains($0) }) ?? true,
            !Self.containsWhitespace(text)
        else { return nil }
        return (host.lowercased() + (components.port.map { ":\($0)" } ?? ""), host)
    }

    /// `parsedHTTPURL` for the URLs nearly every submission holds, read byte by byte: URLComponents
    /// (and the IDNA pass of its `host`) was a fifth of a submission's instructions. Takes only
    /// `http[s]://` a host of dot-separated letter, digit and hyphen labels, an optional port, and a
    /// path and query of characters RFC 3986 allows unescaped (or `%` and two hex digits). Anything
    /// else — user info, IP-v6 literals, `xn--` or percent-encoded hosts, fragments, characters to
    /// escape — answers nil and takes the slow way. Where it answers, it answers what
    /// `parsedHTTPURL` does (`SubmissionURLTests` compares the two).
    static func plainHTTPURL(_ text: String) -> (hostAndPort: String, host: String)? {
        text.utf8.withContiguousStorageIfAvailable { plainHTTPURL($0) } ?? nil
    }

    private static func plainHTTPURL(_ bytes: UnsafeBufferPointer<UInt8>) -> (hostAndPort: String, host: String)? {
        func letter(_ byte: UInt8, _ lower: Unicode.Scalar) -> Bool { byte | 0x20 == UInt8(ascii: lower) }
        guard bytes.count > 7, letter(bytes[0], "h"), letter(bytes[1], "t"), letter(bytes[2], "t"),
            letter(bytes[3], "p")
        else { return nil }
        var index = letter(bytes[4], "s") ? 5 : 4
        guard bytes.count > index + 3, bytes[index] == UInt8(ascii: ":"), bytes[index + 1] == UInt8(ascii: "/"),
            bytes[index + 2] == UInt8(ascii: "/")
        else { return nil }
        index += 3
        // The host: labels of 1 to 63 letters, digits and hyphens, not starting or ending with a
        // hyphen, without "--" (which IDNA gives a meaning), separated by single dots.
        let hostStart = index
        var labelStart = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                guard Self.isPlainLabel(bytes, labelStart..<index) else { return nil }
                labelStart = index + 1
            } else if !(Self.isAlphanumeric(byte) || byte == UInt8(ascii: "-")) {
                break
            }
            index += 1
        }
        guard Self.isPlainLabel(bytes, labelStart..<index), index - hostStart <= 253 else { return nil }
        let hostEnd = index
        var port: Int?
        if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
            index += 1
            let digitsStart = index
            var value = 0
            while index < bytes.count, index - digitsStart < 5, (0x30...0x39).contains(bytes[index]) {
                value = value * 10 + Int(bytes[index] - 0x30)
                index += 1
            }
            guard index > digitsStart, (1...65535).contains(value) else { return nil }
            port = value
        }
        guard index == bytes.count || bytes[index] == UInt8(ascii: "/") || bytes[index] == UInt8(ascii: "?") else {
            return nil
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, Self.isHexDigit(bytes[index + 1]), Self.isHexDigit(bytes[index + 2])
                else { return nil }
                index += 3
            } else {
                guard Self.isPlainPathByte(byte) else { return nil }
                index += 1
            }
        }
        let host = UnsafeBufferPointer(rebasing: bytes[hostStart..<hostEnd])
        var lowered = [UInt8](host)
        for offset in lowered.indices where (0x41...0x5A).contains(lowered[offset]) { lowered[offset] |= 0x20 }
        if let port {
            lowered.append(UInt8(ascii: ":"))
            lowered.append(contentsOf: String(port).utf8)
        }
        return (String(decoding: lowered, as: UTF8.self), String(decoding: host, as: UTF8.self))
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }

    private static func isPlainLabel(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard (1...63).contains(range.count), bytes[range.lowerBound] != UInt8(ascii: "-"),
            bytes[range.upperBound - 1] != UInt8(ascii: "-")
        else { return false }
        for index in range.dropLast() where bytes[index] == UInt8(ascii: "-") && bytes[index + 1] == UInt8(ascii: "-") {
            return false
        }
        return true
    }

    /// RFC 3986 `pchar` without `%`, and `/` and `?`: what a path and a query may hold unescaped.
    private static let plainPathBytes: [Bool] = (0..<256).map { byte in
        isAlphanumeric(UInt8(byte)) || "-._~!$&'()*+,;=:@/?".utf8.contains(UInt8(byte))
    }

    private static func isPlainPathByte(_ byte: UInt8) -> Bool { plainPathBytes[Int(byte)] }

    /// Whether `text` holds any white space. ASCII text (nearly every URL) is checked byte by byte;
    /// only other text pays for Unicode's character properties.
    static func containsWhitespace(_ text: String) -> Bool {
        var ascii = true
        for byte in text.utf8 {
            if byte == 0x20 || (0x09...0x0D).contains(byte) { return true }
            if byte >= 0x80 { ascii = false }
        }
        return !ascii && text.contains(where: \.isWhitespace)
    }
}
