/// One HTTP header line, its name as sent. Requests and responses keep their header lines as a
/// list in the order sent, repeats included (two `Set-Cookie` lines stay two), from the worker
/// through the store to the API.
public struct HeaderField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

extension Array where Element == HeaderField {
    /// The value of the first line named `name`, compared without regard to ASCII case (header
    /// names are ASCII tokens; RFC 9110 compares them so). Byte-wise: Foundation's
    /// `caseInsensitiveCompare` was 5 % of the supervisor's CPU, profiled, for the two lookups
    /// of every result.
    public func value(named name: String) -> String? {
        first { HeaderField.sameName($0.name, name) }?.value
    }
}

extension HeaderField {
    /// Whether two header names are equal without regard to ASCII case.
    public static func sameName(_ lhs: String, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        return zip(lhs.utf8, rhs.utf8).allSatisfy { folded($0) == folded($1) }
    }

    private static func folded(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
