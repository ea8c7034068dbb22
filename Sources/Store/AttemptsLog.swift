/// A task's attempts log as reads show it: the attempts logged in `task_attempts` (those a retry
/// followed, or a lost worker ended) and the last one, kept on the task's own row only. Both
/// engines build it the same way.
package enum AttemptsLog {
    /// How many of a task's most recent attempts a read shows.
    package static let shown = 20

    /// `record` with its log: `logged` (oldest first) and the row's own last attempt, which is the
    /// latest word on its attempt number (a row logged by a retry's cleanup or an earlier run of the
    /// task may have the same number); the most recent `shown`.
    package static func attach(_ logged: [AttemptRecord], to record: TaskRecord) -> TaskRecord {
        var record = record
        var attempts = logged
        if let last = lastAttempt(of: record) {
            attempts.removeAll { $0.attempt == last.attempt }
            attempts.append(last)
            attempts.sort { $0.attempt < $1.attempt }
        }
        record.attemptsLog = Array(attempts.suffix(shown))
        return record
    }

    /// The last attempt of a finished task, from the task's own row.
    private static func lastAttempt(of task: TaskRecord) -> AttemptRecord? {
        guard task.state == .succeeded || task.state == .failed, task.attempts > 0,
            let outcome = task.outcome, let finishedAt = task.finishedAt
        else { return nil }
        return AttemptRecord(
            attempt: task.attempts, startedAt: task.startedAt, finishedAt: finishedAt, statusCode: outcome.statusCode,
            durationMillis: outcome.durationMillis, error: outcome.error, errorMessage: outcome.errorMessage)
    }
}
