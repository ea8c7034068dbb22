import Foundation

/// What deleting a job did.
public enum JobDeletion: Sendable, Equatable {
    case deleted
    case noJob
    /// The job has tasks queued or running, or webhooks still to send: it is kept.
    case pending
}
