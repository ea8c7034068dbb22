import Foundation

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
    /// The value of the first line named `name`, compared without regard to case.
    public func value(named name: String) -> String? {
        first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}
