import HTTPServer
import JSON
import Store

extension FetchqAPI {
    /// `GET /v1/stats`: the service's totals for the dashboard: tasks by state (across jobs),
    /// worker processes alive, and webhook deliveries still to send.
    func stats() async throws -> HTTPResponse {
        let totals = try await store.totals()
        let pending = try await store.pendingDeliveries()
        return .json(
            200,
            .object([
                ("tasks", Representation.counts(totals)), ("workers_live", .integer(status.read { $0.workersLive })),
                ("deliveries_pending", .integer(pending)),
            ]))
    }
}
