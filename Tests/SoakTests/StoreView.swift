import Foundation
import TestSupport

/// The database file as `sqlite3` reads it once the service has stopped.
struct StoreView {
    let integrity: String
    let jobs: Int
    /// Per job id: its tasks counted by state, and the counters kept on the job's row.
    let counted: [String: StateCounts]
    let counters: [String: StateCounts]
    let overMaxAttempts: Int
    let attemptRowsOverMax: Int
    let attempts: Int
    let attemptRows: Int
    /// Succeeded tasks whose stored answer is not one the target gives with a 200 (`ok`, or 64
    /// dripped `d`s): a body cut short, or a reset taken for a success.
    let wrongSuccesses: Int
    /// `event_type state` → deliveries.
    let deliveries: [String: Int]
    /// How the tasks ended: `failure_reason error` or the status code → tasks.
    let endings: [String: Int]

    static func read(_ shell: SQLiteShell) throws -> StoreView {
        var counted: [String: StateCounts] = [:]
        for row in try shell.rows(
            "SELECT j.id, t.state, count(*) FROM tasks t JOIN jobs j ON j.seq = t.job_seq GROUP BY j.id, t.state")
        where row.count == 3 {
            counted[row[0], default: [:]][row[1]] = Int(row[2]) ?? 0
        }
        var counters: [String: StateCounts] = [:]
        for row in try shell.rows("SELECT id, n_queued, n_running, n_succeeded, n_failed, n_canceled FROM jobs")
        where row.count == 6 {
            counters[row[0]] = Dictionary(uniqueKeysWithValues: zip(taskStates, row[1...].map { Int($0) ?? -1 }))
        }
        var deliveries: [String: Int] = [:]
        for row in try shell.rows("SELECT event_type, state, count(*) FROM deliveries GROUP BY 1, 2")
        where row.count == 3 {
            deliveries["\(row[0]) \(row[1])"] = Int(row[2]) ?? 0
        }
        var endings: [String: Int] = [:]
        for row in try shell.rows(
            "SELECT state, coalesce(failure_reason || ' ' || coalesce(error, status_code), ''), count(*) FROM tasks"
                + " GROUP BY 1, 2") where row.count == 3
        {
            endings[row[1].isEmpty ? row[0] : "\(row[0]) \(row[1])"] = Int(row[2]) ?? 0
        }
        return StoreView(
            integrity: try shell.rows("PRAGMA integrity_check").map { $0.joined() }.joined(separator: "; "),
            jobs: try shell.integer("SELECT count(*) FROM jobs"), counted: counted, counters: counters,
            overMaxAttempts: try shell.integer("SELECT count(*) FROM tasks WHERE attempts > max_attempts"),
            attemptRowsOverMax: try shell.integer(
                "SELECT count(*) FROM task_attempts a JOIN tasks t ON t.seq = a.task_seq WHERE a.attempt > t.max_attempts"
            ),
            attempts: try shell.integer("SELECT sum(attempts) FROM tasks"),
            attemptRows: try shell.integer("SELECT count(*) FROM task_attempts"),
            wrongSuccesses: try shell.integer(
                "SELECT count(*) FROM tasks t LEFT JOIN task_bodies b ON b.task_seq = t.seq"
                    + " WHERE t.state = 'succeeded' AND (t.status_code IS NOT 200 OR b.body IS NULL"
                    + " OR CAST(b.body AS TEXT) NOT IN ('ok', '\(String(repeating: "d", count: 64))'))"),
            deliveries: deliveries, endings: endings)
    }
}
