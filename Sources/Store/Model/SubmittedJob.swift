import Foundation

/// What the store answers once a job is durably stored.
public struct SubmittedJob: Sendable {
    public let id: JobID
    /// One per submitted position; with `unique_urls` a repeat names the task that stands for it.
    public let taskIDs: [TaskID]
    public let createdAt: Int64
    /// Submitted positions that created no task (`unique_urls`).
    public let duplicates: Int

    package init(id: JobID, taskIDs: [TaskID], createdAt: Int64, duplicates: Int = 0) {
        self.id = id
        self.taskIDs = taskIDs
        self.createdAt = createdAt
        self.duplicates = duplicates
    }

    /// Tasks the submission created.
    public var created: Int { taskIDs.count - duplicates }
}
