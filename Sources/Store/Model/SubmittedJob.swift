import Foundation

/// What the store answers once a job is durably stored.
public struct SubmittedJob: Sendable {
    public let id: JobID
    public let taskIDs: [TaskID]
    public let createdAt: Int64

    package init(id: JobID, taskIDs: [TaskID], createdAt: Int64) {
        self.id = id
        self.taskIDs = taskIDs
        self.createdAt = createdAt
    }
}
