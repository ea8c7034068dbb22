import TestSupport
import Testing

extension Compression: CustomTestStringConvertible {
    public var testDescription: String { rawValue }
}
