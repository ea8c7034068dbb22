import Engine
import Foundation
import Logging
import Store

/// Readers of settings' texts, one per kind of value. Each accepts exactly its kind of value and
/// throws for anything else: nothing is trimmed to fit, clamped or dropped.
enum SettingValue {
    static func integer(_ text: String, in range: ClosedRange<Int>) throws(InvalidValue) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw InvalidValue(
                text: text, expected: "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    static func text(_ text: String) -> String { text }

    /// A header value fetchq can send: printable ASCII, not empty.
    static func userAgent(_ text: String) throws(InvalidValue) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw InvalidValue(text: text, expected: "printable ASCII, like fetchq/1.0 (+https://example.com/bot)")
        }
        return trimmed
    }

    /// A variable's yes or no: `1`, `true`, `yes`, or `0`, `false`, `no`.
    static func yesOrNo(_ text: String) throws(InvalidValue) -> Bool {
        switch text.lowercased() {
        case "1", "true", "yes": return true
        case "0", "false", "no": return false
        default: throw InvalidValue(text: text, expected: "1, true or yes, or 0, false or no")
        }
    }

    /// A switch written as a word: `on` or `off`.
    static func onOff(_ text: String) throws(InvalidValue) -> Bool {
        switch text {
        case "on": return true
        case "off": return false
        default: throw InvalidValue(text: text, expected: "on or off")
        }
    }

    static func logLevel(_ text: String) throws(InvalidValue) -> Logger.Level {
        guard let level = Logger.Level(rawValue: text) else {
            throw InvalidValue(
                text: text, expected: Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return level
    }

    static func robots(_ text: String) throws(InvalidValue) -> RobotsMode {
        guard let mode = RobotsMode(rawValue: text) else { throw InvalidValue(text: text, expected: "obey or ignore") }
        return mode
    }

    static func addressRange(_ text: String) throws(InvalidValue) -> DestinationGuard.CIDR {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, let range = DestinationGuard.CIDR(trimmed) else {
            throw InvalidValue(text: text, expected: "an address range like 10.1.0.0/16")
        }
        return range
    }

    /// A PEM file of certificate authorities, read and checked now.
    static func trustRoots(_ text: String) throws(InvalidValue) -> TrustRoots {
        do {
            return try TrustRoots(path: text)
        } catch {
            throw InvalidValue(text: text, expected: "a PEM file of certificate authorities (\(error))")
        }
    }

    /// Comma-separated waits in milliseconds, at least one.
    static func waits(_ text: String) throws(InvalidValue) -> [Int] {
        let waits = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !waits.isEmpty, waits.allSatisfy({ ($0 ?? -1) >= 0 }) else {
            throw InvalidValue(text: text, expected: "comma-separated milliseconds, like 5000,60000")
        }
        return waits.compactMap { $0 }
    }

    /// Comma-separated tokens; blanks between commas are skipped.
    static func tokens(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func webhookSecret(_ text: String) throws(InvalidValue) -> String? {
        guard WebhookSigner(secret: text) != nil else {
            throw InvalidValue(text: "(a secret, not shown)", expected: "whsec_ followed by base64 of 24 to 64 bytes")
        }
        return text
    }

    /// A duration as a whole number and a unit, `s`, `m`, `h` or `d` (`90s`, `12h`, `7d`), or `0`;
    /// answered in milliseconds.
    static func duration(_ text: String) throws(InvalidValue) -> Int64 {
        let invalid = InvalidValue(text: text, expected: "0, or a whole number followed by s, m, h or d, like 7d")
        if text == "0" { return 0 }
        let units: [Character: Int64] = ["s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]
        guard let unit = text.last.flatMap({ units[$0] }), let count = Int64(text.dropLast()), count >= 0,
            count <= 36_500 * 86_400_000 / unit
        else { throw invalid }
        return count * unit
    }
}
