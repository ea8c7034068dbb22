import Foundation

/// A task's stored response body: `.noTask` when the task does not exist, `.noBody` when no
/// response has been stored for it yet.
public enum BodyLookup: Sendable {
    case noTask
    case noBody
    case body(StoredBody, truncated: Bool)
}
