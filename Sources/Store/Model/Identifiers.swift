/// What a ULID-based identifier names. Its only use is to keep job ids and task ids apart.
public protocol IdentifierKind {}

/// Names a job.
public enum JobKind: IdentifierKind {}

/// Names a task.
public enum TaskKind: IdentifierKind {}

/// The public identifier of a job or a task: a ULID, opaque, URL-safe and time-sortable.
public struct ULIDIdentifier<Kind: IdentifierKind>: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    /// Accepts only well-formed ULIDs, so a path segment can be checked before any lookup.
    public init?(_ text: some StringProtocol) {
        guard ULID.isWellFormed(text) else { return nil }
        rawValue = String(text)
    }
    package init(trusted rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

public typealias JobID = ULIDIdentifier<JobKind>
public typealias TaskID = ULIDIdentifier<TaskKind>

/// Makes ULIDs (48-bit millisecond time, 80 random bits, Crockford base32). Within one millisecond
/// it increments the random part, so ids made by one generator sort in the order they were made.
package struct ULID {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    private var lastMillis: UInt64 = 0
    private var high: UInt16 = 0  // top 16 of the 80 random bits
    private var low: UInt64 = 0  // bottom 64 of the 80 random bits
    private var generator = SystemRandomNumberGenerator()

    package init() {}

    package mutating func next(millis: Int64) -> String {
        let time = UInt64(max(0, millis))
        if time > lastMillis {
            lastMillis = time
            high = UInt16.random(in: 0...UInt16.max, using: &generator) & 0x7FFF
            low = UInt64.random(in: 0...UInt64.max, using: &generator)
        } else {
            let (sum, overflow) = low.addingReportingOverflow(1)
            low = sum
            if overflow { high &+= 1 }
        }
        return Self.encode(time: lastMillis, high: high, low: low)
    }

    static func encode(time: UInt64, high: UInt16, low: UInt64) -> String {
        // 128 bits = 48 time + 16 high + 64 low, written as 26 base32 digits (130 bits, top 2 zero).
        var bytes = [UInt8](repeating: 0, count: 26)
        var index = 25
        var lowBits = low
        var highBits = UInt64(high) | (time << 16)  // 64 bits: time (48) then high (16)
        for _ in 0..<26 {
            bytes[index] = alphabet[Int(lowBits & 0x1F)]
            lowBits = (lowBits >> 5) | ((highBits & 0x1F) << 59)
            highBits >>= 5
            index -= 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Which bytes are letters of the alphabet, by byte value: one lookup per character.
    private static let inAlphabet: [Bool] = (0...255).map { alphabet.contains(UInt8($0)) }

    static func isWellFormed(_ text: some StringProtocol) -> Bool {
        let utf8 = text.utf8
        guard utf8.count == 26, let first = utf8.first, first <= UInt8(ascii: "7") else { return false }
        return utf8.allSatisfy { inAlphabet[Int($0)] }
    }
}

/// A webhook delivery's id, the `webhook-id` receivers deduplicate on: `msg_` then a ULID, so ids
/// sort by the time the event was created. Ids made before schema version 5 (`msg_` then 24
/// random hex digits) still read.
public struct DeliveryID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public var description: String { rawValue }

    public init?(_ text: some StringProtocol) {
        guard text.hasPrefix("msg_") else { return nil }
        let rest = text.dropFirst(4)
        let legacy = rest.utf8.count == 24 && rest.utf8.allSatisfy { Self.lowerHex.contains($0) }
        guard ULID.isWellFormed(rest) || legacy else { return nil }
        rawValue = String(text)
    }

    package init(trusted rawValue: String) { self.rawValue = rawValue }

    package static func next(millis: Int64, using ids: inout ULID) -> DeliveryID {
        DeliveryID(trusted: "msg_" + ids.next(millis: millis))
    }

    private static let lowerHex = Set("0123456789abcdef".utf8)
}
