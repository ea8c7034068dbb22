import Crypto

/// `unique_urls`, on every engine: a task with the same method, URL and body as one already in the
/// job (earlier in the same submission, or in an earlier append of an open job) is not created; its
/// position in the answer names the task that stands for it. The driver stores each created task's
/// `key` (`tasks.dedupe_key`, unique per job) and looks up a batch's keys among the job's tasks
/// before an append; this plans what to insert and answers the ids per position.
package struct DuplicatePlan: Sendable {
    /// The tasks to create, in order.
    package let toInsert: [NewTask]
    /// Their keys, for `tasks.dedupe_key` (nil for every task of a job without `unique_urls`).
    package let keys: [String?]
    /// Per submitted position: the index in `toInsert` of the task created for it, or the id of the
    /// task already in the job that stands for it.
    private let positions: [Position]

    private enum Position: Sendable {
        case inserted(Int)
        case existing(TaskID)
    }

    /// Submitted positions that created no task.
    package var duplicates: Int { positions.count - toInsert.count }

    /// The plan for `tasks`: all of them without `unique`; else only the first of each key, and
    /// none whose key is in `existing` (the job's tasks' keys and ids).
    package init(_ tasks: [NewTask], unique: Bool, existing: [String: TaskID] = [:]) {
        guard unique else {
            toInsert = tasks
            keys = Array(repeating: nil, count: tasks.count)
            positions = tasks.indices.map(Position.inserted)
            return
        }
        var toInsert: [NewTask] = []
        var keys: [String?] = []
        var positions: [Position] = []
        var firstOfKey: [String: Int] = [:]
        for task in tasks {
            let key = Self.key(task)
            if let id = existing[key] {
                positions.append(.existing(id))
            } else if let index = firstOfKey[key] {
                positions.append(.inserted(index))
            } else {
                firstOfKey[key] = toInsert.count
                positions.append(.inserted(toInsert.count))
                toInsert.append(task)
                keys.append(key)
            }
        }
        (self.toInsert, self.keys, self.positions) = (toInsert, keys, positions)
    }

    /// The keys of `tasks` to look up among the job's (an append to a job with `unique_urls`).
    package static func keys(of tasks: [NewTask]) -> [String] { Array(Set(tasks.map(key))) }

    /// One id per submitted position, from the ids of the tasks created (`toInsert`'s order).
    package func ids(inserted: [TaskID]) -> [TaskID] {
        positions.map { position in
            switch position {
            case .inserted(let index): inserted[index]
            case .existing(let id): id
            }
        }
    }

    /// What makes two tasks the same: method, URL and body (a body is compared by its SHA-256).
    package static func key(_ task: NewTask) -> String {
        let body = task.request.body.map { SHA256.hash(data: $0).map { String($0, radix: 16) }.joined() } ?? "-"
        return "\(task.request.method) \(task.request.url) \(body)"
    }
}
