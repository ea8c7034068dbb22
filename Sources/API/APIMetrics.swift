import CoreMetrics
import Dispatch
import NIOConcurrencyHelpers
import Prometheus

/// The API's side of the metrics: the registry `GET /metrics` writes out, the HTTP request
/// counters and durations (labelled by route template and status, never by raw path), and the
/// gauges read at scrape time (`fetchq_tasks{state}`, `fetchq_workers_live`).
public final class APIMetrics: Sendable {
    /// The counter and timer of one route and status.
    private struct Series: Sendable {
        let requests: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }

    let registry: PrometheusCollectorRegistry
    let factory: any MetricsFactory
    private let series = NIOLockedValueBox<[String: Series]>([:])
    private let canceledTasks: CoreMetrics.Counter

    /// `factory` must write into `registry` (normally `PrometheusMetricsFactory(registry:)`).
    public init(registry: PrometheusCollectorRegistry, factory: any MetricsFactory) {
        self.registry = registry
        self.factory = factory
        self.canceledTasks = CoreMetrics.Counter(
            label: "fetchq_tasks_finished_total", dimensions: [("state", "canceled")], factory: factory)
    }

    /// Tasks a user canceled (the engine counts the ones that succeed or fail).
    func canceled(_ count: Int) {
        if count > 0 { canceledTasks.increment(by: count) }
    }

    /// A registry of its own, for tests and for services that do not share theirs.
    public convenience init() {
        let registry = PrometheusCollectorRegistry()
        self.init(registry: registry, factory: PrometheusMetricsFactory(registry: registry))
    }

    /// One request answered: `route` is the route's template.
    func request(_ route: String, status: Int, startedAt: UInt64) {
        let key = "\(route) \(status)"
        let found = series.withLockedValue { series -> Series in
            if let found = series[key] { return found }
            let made = Series(
                requests: CoreMetrics.Counter(
                    label: "fetchq_http_requests_total", dimensions: [("route", route), ("status", "\(status)")],
                    factory: factory),
                duration: CoreMetrics.Timer(
                    label: "fetchq_http_request_duration_seconds", dimensions: [("route", route)], factory: factory))
            series[key] = made
            return made
        }
        found.requests.increment()
        found.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds &- startedAt))
    }

    /// Sets the gauges read at scrape time, then writes out every metric in the text format.
    func scrape(tasks: [(state: String, count: Int)], workersLive: Int) -> [UInt8] {
        for (state, count) in tasks {
            CoreMetrics.Gauge(label: "fetchq_tasks", dimensions: [("state", state)], factory: factory).record(count)
        }
        CoreMetrics.Gauge(label: "fetchq_workers_live", factory: factory).record(workersLive)
        return registry.emitToBuffer()
    }
}
