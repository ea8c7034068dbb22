/// What pausing may do, on every engine: which jobs may be paused or resumed, and how a pause made
/// by hand is recorded among a host's pauses. A driver only runs the queries.
package enum PauseRule {
    /// A completed job (all its tasks final, not open) has nothing to hold or release: pausing or
    /// resuming it is a conflict.
    package static func check(_ job: JobRecord) throws(StoreError) {
        guard job.state != .completed else {
            throw StoreError(.conflict, "job \(job.id) is completed: there is nothing to pause or resume")
        }
    }

    /// Whether a pause or resume of `job` changes anything (it is idempotent otherwise).
    package static func changes(_ job: JobRecord, toPaused paused: Bool) -> Bool { job.isPaused != paused }

    /// `host_pauses.kind` of a pause made with `POST /v1/hosts/{host}/pause`; a host's own
    /// Retry-After pause is `retry_after`.
    package static let manualKind = "manual"
}
