import Foundation

/// An `Idempotency-Key` with the hash of the request it came with, and how to render the
/// answer that a replay returns.
public struct Idempotency: Sendable {
    /// How long idempotency keys are kept, on every engine.
    public static let windowMillis: Int64 = 24 * 60 * 60 * 1000

    public let key: String
    public let requestHash: String
    public let status: Int
    public let render: @Sendable (SubmittedJob) -> [UInt8]

    public init(
        key: String, requestHash: String, status: Int, render: @escaping @Sendable (SubmittedJob) -> [UInt8]
    ) {
        self.key = key
        self.requestHash = requestHash
        self.status = status
        self.render = render
    }
}
