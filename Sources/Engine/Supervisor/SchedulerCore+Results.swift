import Store

/// Turning a worker's `FetchResult` into the `AttemptResult` the store records.
extension SchedulerCore {
    /// Decides where the attempt sends its task, and pauses a host that said "too many requests".
    mutating func attemptResult(_ task: ClaimedTask, _ result: FetchResult, now: Int64) -> (AttemptResult, Note) {
        let retryAfter = result.headers.value(named: "retry-after")
        let responded = result.statusCode != nil
        let policy = configuration.retry.overridden(baseMillis: task.retryBaseMillis, maxMillis: task.retryMaxMillis)
        let disposition = policy.disposition(
            statusCode: result.statusCode, failure: result.failure?.kind, retryAfter: retryAfter,
            attempt: task.attempt, maxAttempts: task.maxAttempts,
            conditional: result.statusCode == 304 && RetryPolicy.isConditional(task.request.headers), now: now,
            using: &random)
        // A host that says "too many requests" gets a pause: its other tasks wait, other hosts go on.
        if result.statusCode == 429 || result.statusCode == 503 {
            let asked = policy.retryAfterMillis(
                statusCode: result.statusCode, retryAfter: retryAfter, now: now)
            if let asked {
                hosts.pause(task.host, until: now + Int64(asked))
            } else if case .retry(let at) = disposition, result.statusCode == 429 {
                hosts.pause(task.host, until: at)
            }
        }
        let overloaded =
            result.statusCode == 429 || result.statusCode == 503 || result.failure?.kind == .timeout
            || result.failure?.kind == .connectionFailed
        let lowered = hosts.observed(
            task.host, overloaded: overloaded, latencyMillis: result.durationMillis, now: now)
        let outcome = Outcome(
            statusCode: result.statusCode, headers: responded ? result.headers : nil,
            bodyBytes: responded ? result.body.count : nil, bodyTruncated: result.bodyTruncated,
            durationMillis: result.durationMillis, error: result.failure?.kind.rawValue,
            errorMessage: result.failure?.message, decodedFrom: result.decodedFrom)
        let attempt = AttemptResult(
            seq: task.seq, attempt: task.attempt, outcome: outcome, disposition: disposition,
            body: responded
                ? StoredBody(contentType: result.headers.value(named: "content-type"), bytes: result.body) : nil,
            finishedAt: now)
        let note = Note.attemptFinished(
            task.id, attempt: task.attempt, statusCode: result.statusCode, failure: result.failure?.kind,
            disposition: disposition,
            AttemptDetail(
                host: task.host, durationMillis: result.durationMillis,
                errorMessage: result.failure.map { "\($0.kind.rawValue): \($0.message)" }, finishedAt: now,
                limitLowered: lowered ? hosts.limit(of: task.host) : nil))
        return (attempt, note)
    }
}
