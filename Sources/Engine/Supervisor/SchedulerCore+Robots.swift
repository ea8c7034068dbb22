import Store

/// Obeying tasks checked against their origin's robots.txt before any request is sent.
extension SchedulerCore {
    /// What became of a claimed task that obeys robots.txt.
    enum Screening {
        /// It may be sent now.
        case send
        /// It goes back to the queue unstarted, until its origin's robots.txt is known.
        case held
        /// It failed without a request; the note says why.
        case refused(Note)
    }

    mutating func screen(_ task: ClaimedTask, now: Int64) -> Screening {
        let lease = LeaseKey(seq: task.seq, attempt: task.attempt)
        switch robots.check(task, now: now) {
        case .send:
            return .send
        case .wait(let until):
            held[lease] = until
            // The next pass gives it back and claims for the other hosts.
            wantsWork = true
            return .held
        case .refuse(let message):
            return .refused(refuse(task, error: "robots_disallowed", message: message, now: now))
        case .giveUp(let message):
            return .refused(refuse(task, error: "robots_unavailable", message: message, now: now))
        }
    }

    /// Fails `task` at once, not retryable, with no request sent.
    private mutating func refuse(_ task: ClaimedTask, error: String, message: String, now: Int64) -> Note {
        unrecorded.append(
            AttemptResult(
                seq: task.seq, attempt: task.attempt, outcome: Outcome(error: error, errorMessage: message),
                disposition: .failed(.notRetryable), body: nil, finishedAt: now))
        wantsWork = true
        return .refusedByRobots(task.id, error: error, message: message)
    }
}
