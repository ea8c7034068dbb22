import Foundation

/// What `seal` found.
public enum SealOutcome: Sendable {
    /// No such job.
    case notFound
    /// The job is sealed now (or was already): it finishes once its last task ends.
    case sealed(JobRecord)
}
