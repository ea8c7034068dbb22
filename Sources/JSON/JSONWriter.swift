/// Compact JSON text as UTF-8 bytes: fetchq's one JSON writer (API responses, webhook payloads,
/// stored headers, the id lists given to SQLite's `json_each`). A string with nothing to escape,
/// as most ids, URLs, header names and values are, is copied whole: appending pieces to a `String`
/// was 6 % of the supervisor's CPU when profiled.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// The text written so far.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .integer(let number): bytes.append(contentsOf: String(number).utf8)
        case .number(let number): bytes.append(contentsOf: (number.isFinite ? "\(number)" : "null").utf8)
        case .string(let text): write(string: text)
        case .array(let elements):
            writeArray(elements) { writer, element in writer.write(element) }
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (offset, (key, member)) in members.enumerated() {
                if offset > 0 { bytes.append(UInt8(ascii: ",")) }
                write(string: key)
                bytes.append(UInt8(ascii: ":"))
                write(member)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// `[e0,e1,…]`, each element written by `element`.
    public mutating func writeArray<Elements: Sequence>(
        _ elements: Elements, _ element: (inout JSONWriter, Elements.Element) -> Void
    ) {
        bytes.append(UInt8(ascii: "["))
        // Not `enumerated()`: called from other modules this function is not specialized, and the
        // (offset, element) tuple's metadata was then looked up at run time for every array.
        var first = true
        for item in elements {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            element(&self, item)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// `text` as a JSON string, quotes included, escaping what RFC 8259 requires.
    public mutating func write(string text: String) {
        bytes.append(UInt8(ascii: "\""))
        // A native string's bytes are scanned and copied as one buffer: through `text.utf8` as a
        // sequence, a 26-character id cost ≈ 1,800 instructions.
        let copied = text.utf8.withContiguousStorageIfAvailable { utf8 in
            guard !utf8.contains(where: Self.needsEscape) else { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied == true {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        if text.utf8.contains(where: Self.needsEscape) {
            for byte in text.utf8 {
                if Self.needsEscape(byte) { writeEscape(byte) } else { bytes.append(byte) }
            }
        } else {
            bytes.append(contentsOf: text.utf8)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func write(integer: Int64) { bytes.append(contentsOf: String(integer).utf8) }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private mutating func writeEscape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
        case UInt8(ascii: "\n"): bytes.append(UInt8(ascii: "n"))
        case UInt8(ascii: "\r"): bytes.append(UInt8(ascii: "r"))
        case UInt8(ascii: "\t"): bytes.append(UInt8(ascii: "t"))
        default:
            bytes.append(contentsOf: "u00".utf8)
            bytes.append(Self.hexDigits[Int(byte >> 4)])
            bytes.append(Self.hexDigits[Int(byte & 0xF)])
        }
    }
}

extension JSONValue {
    /// The value as compact JSON bytes.
    public var serialized: [UInt8] {
        var writer = JSONWriter()
        writer.write(self)
        return writer.bytes
    }

    /// The value as compact JSON text.
    public var text: String { String(decoding: serialized, as: UTF8.self) }
}

extension JSONWriter {
    /// A JSON array of strings, as text (for SQLite's `json_each`).
    public static func text(ofStrings strings: some Sequence<String>) -> String {
        var writer = JSONWriter()
        writer.writeArray(strings) { writer, string in writer.write(string: string) }
        return writer.text
    }

    /// A JSON array of integers, as text (for SQLite's `json_each`).
    public static func text(ofIntegers integers: some Sequence<Int64>) -> String {
        var writer = JSONWriter()
        writer.writeArray(integers) { writer, integer in writer.write(integer: integer) }
        return writer.text
    }
}
