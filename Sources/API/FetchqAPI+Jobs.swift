import Engine
import Foundation
import HTTPServer
import JSON
import Store

extension FetchqAPI {
    /// The longest `wait` of `GET /v1/jobs/{id}`, in seconds.
    static let maxWaitSeconds = 60

    /// `GET /v1/jobs`: newest first, optionally only pending or only completed jobs.
    func listJobs(_ query: [String: String]) async throws -> HTTPResponse {
        let state: JobState? = try stateFilter(query)
        let page = try await store.jobs(state: state, cursor: query["cursor"], limit: try pageLimit(query))
        return .json(
            200,
            .object([
                ("jobs", .array(page.jobs.map(Representation.job))), ("next_cursor", .optional(page.nextCursor)),
            ]))
    }

    /// `GET /v1/jobs/{id}`, at once, or with `wait=S` once the job is completed or S seconds have passed.
    func job(_ id: String, _ request: HTTPRequest) throws -> Reply {
        var wait = 0
        if let text = request.query["wait"] {
            guard let parsed = Int(text), (0...Self.maxWaitSeconds).contains(parsed) else {
                throw Problem.invalidField(
                    "wait", "`wait` must be an integer from 0 to \(Self.maxWaitSeconds) (seconds).")
            }
            wait = parsed
        }
        let (store, seconds) = (self.store, wait)
        return read(request) {
            guard let jobID = JobID(id),
                let job = try await seconds > 0
                    ? store.job(jobID, waitingUpTo: .seconds(seconds)) : store.job(jobID)
            else { throw Problem.notFound("Job \(id)") }
            return .json(200, Representation.job(job))
        }
    }

    /// `POST /v1/jobs/{id}/cancel`.
    func cancelJob(_ id: String) throws -> Reply {
        guard let jobID = JobID(id) else { throw Problem.notFound("Job \(id)") }
        return cancel("Job \(id)") { try await $0.cancel(job: jobID, now: clock.wallMillis()) }
    }
}
