import Foundation
import JSON
import Store

extension SQLiteStore {
    /// Records finished attempts (as `record`) and then claims due tasks (as `claim`), in one
    /// transaction: the scheduler's whole write per pass, so one commit instead of two.
    public func recordAndClaim(
        _ results: [AttemptResult], limit: Int, now: Int64, leaseMarginMillis: Int,
        hosts: HostAllowance = HostAllowance()
    ) async throws -> (recorded: [Bool], claimed: [ClaimedTask]) {
        guard !results.isEmpty || limit > 0 else { return ([], []) }
        return try await writer.perform { writer in
            try writer.transactionRenderingEvents(.written) {
                let recorded = try Self.record(results, in: writer.db)
                let claimed =
                    limit > 0
                    ? try Self.claim(
                        limit: limit, now: now, leaseMarginMillis: leaseMarginMillis, hosts: hosts, in: writer.db)
                    : []
                return (recorded, claimed)
            }
        }
    }

    private static func claim(
        limit: Int, now: Int64, leaseMarginMillis: Int, hosts: HostAllowance, in db: Database
    ) throws -> [ClaimedTask] {
        let blocked = hosts.remaining.filter { $0.value <= 0 }.map(\.key)
        let blockedJSON = JSONWriter.text(ofStrings: blocked)
        let window = ClaimRule.window(
            limit: limit, constrained: !hosts.remaining.isEmpty || ClaimRule.readsJobs(hosts),
            defaultLimit: hosts.defaultLimit)
        // Tasks whose time has come stop waiting (see migrations/0003_waiting_tasks.sql); held tasks
        // (a paused job's) and paused hosts' are not candidates (0009_pause.sql).
        try db.run(
            "UPDATE tasks SET waiting = 0 WHERE state = 'queued' AND waiting = 1 AND next_attempt_at <= ?",
            [.integer(now)])
        let candidates = try db.query(
            """
            SELECT \(ClaimRule.candidateColumns(hosts)) FROM tasks
            WHERE state = 'queued' AND waiting = 0 AND held = 0 AND next_attempt_at <= ?1
              AND host NOT IN (SELECT value FROM json_each(?2))
              AND host NOT IN (SELECT host FROM host_pauses WHERE until > ?1)
            ORDER BY \(ClaimRule.order) LIMIT ?3
            """,
            [.integer(now), .text(blockedJSON), .int(window)], ClaimRule.candidate)
        let chosen = ClaimRule.choose(
            candidates, limit: limit, left: hosts.remaining, defaultLimit: hosts.defaultLimit, jobs: hosts)
        guard !chosen.isEmpty else { return [] }
        return try db.query(
            """
            UPDATE tasks SET state = 'running', attempts = attempts + 1, started_at = ?1, updated_at = ?1,
                             lease_expires_at = ?1 + timeout_ms + ?2
            WHERE seq IN (SELECT value FROM json_each(?3))
            RETURNING \(ClaimRule.returning)
            """,
            [
                .integer(now), .int(leaseMarginMillis),
                .text(JSONWriter.text(ofIntegers: chosen)),
            ],
            ClaimRule.claimed
        )
        .sorted { $0.seq < $1.seq }
    }
}
