import Foundation
import Store

extension SQLiteStore {
    /// A page of jobs, newest first, optionally only the pending or only the completed ones.
    public func jobs(state: JobState?, cursor: String?, limit: Int) throws -> JobPage {
        let before = try cursor.map(Cursor.decode) ?? Int64.max
        let filter =
            switch state {
            case .pending?: "AND (n_queued + n_running > 0 OR open = 1)"
            case .completed?: "AND n_queued + n_running = 0 AND open = 0"
            case nil: ""
            }
        return try readers.withReader { db in
            let rows = try db.query(
                "\(JobRow.select) WHERE seq < ?1 \(filter) ORDER BY seq DESC LIMIT ?2",
                [.integer(before), .int(limit + 1)], JobRow.read)
            let page = Array(rows.prefix(limit))
            let next = rows.count > limit ? page.last.map { Cursor.encode($0.seq) } : nil
            return JobPage(jobs: page.map(\.record), nextCursor: next)
        }
    }

    /// The job once it is completed, or as it is when `timeout` has passed. Waits on the writer's
    /// commits, re-reading the job's one row after each; nil when there is no such job.
    public func job(_ id: JobID, waitingUpTo timeout: Duration) async throws -> JobRecord? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let seen = commits.count
            guard let job = try job(id) else { return nil }
            // A canceled wait (the server stopping) answers at once, rather than spin to the deadline.
            if job.state == .completed || ContinuousClock.now >= deadline || Task.isCancelled { return job }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.commits.wait(after: seen) }
                group.addTask { try? await Task.sleep(until: deadline) }
                await group.next()
                group.cancelAll()
            }
        }
    }
}
