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

    /// A key's earlier use, as stored with the answer it got.
    package struct EarlierUse: Sendable {
        package let requestHash: String
        package let status: Int
        package let response: [UInt8]

        /// The columns `select` names.
        package static func read(_ row: some RowReader) throws -> EarlierUse {
            EarlierUse(requestHash: try row.string(0), status: try row.int(1), response: try row.bytes(2) ?? [])
        }
    }

    /// The columns of a key's earlier use, read by `EarlierUse.read` (the engine adds its `WHERE key =`).
    package static let selectEarlier = "SELECT request_hash, status, response FROM idempotency_keys"

    /// The rule, on every engine: a key used before answers what it answered then, for the same
    /// request, or `keyReused` for another; nil means the submission goes ahead, and its answer
    /// is recorded under the key in the same transaction. Keys older than `windowMillis` are
    /// deleted first, so that a key may be used again after the window.
    package func outcome(after earlier: EarlierUse?) -> SubmitOutcome? {
        guard let earlier else { return nil }
        return earlier.requestHash == requestHash
            ? .replayed(status: earlier.status, body: earlier.response) : .keyReused
    }
}
