import HTTPServer
import Store

extension FetchqAPI {
    /// `GET /metrics`: the Prometheus text format.
    func scrapeMetrics() async throws -> HTTPResponse {
        let totals = try await store.totals()
        let body = metrics.scrape(
            tasks: TaskState.allCases.map { ($0.rawValue, totals[$0]) }, workersLive: status.read { $0.workersLive })
        return HTTPResponse(
            status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: body)
    }
}
