import CoreMetrics
import Store

/// The engine's metrics, made once from the factory `fetchq serve` passes in (no global
/// bootstrap). Every label takes a handful of fixed values: no host, URL or id labels.
public struct EngineMetrics: Sendable {
    private let succeeded: Counter
    private let retried: Counter
    private let failed: Counter
    private let finishedSucceeded: Counter
    private let finishedFailed: Counter
    /// Fetch durations by `status_class`: 2xx, 3xx, 4xx, 5xx, error.
    private let durations: [Timer]
    private let queueWait: Timer
    let workerRestarts: Counter
    private let deliveryDelivered: Counter
    private let deliveryRetried: Counter
    private let deliveryFailed: Counter
    /// robots.txt fetches by `result`: rules, allowed, unavailable.
    private let robotsFetches: [String: Counter]
    /// Tasks failed by robots.txt without a request, by `reason`: disallowed, unavailable.
    private let robotsRefusals: [String: Counter]
    /// Times a host's adaptive limit was halved.
    let hostLimitDecreases: Counter

    public init(factory: any MetricsFactory) {
        func counter(_ label: String, _ key: String, _ value: String) -> Counter {
            Counter(label: label, dimensions: [(key, value)], factory: factory)
        }
        succeeded = counter("fetchq_attempts_total", "result", "success")
        retried = counter("fetchq_attempts_total", "result", "retry")
        failed = counter("fetchq_attempts_total", "result", "failure")
        finishedSucceeded = counter("fetchq_tasks_finished_total", "state", "succeeded")
        finishedFailed = counter("fetchq_tasks_finished_total", "state", "failed")
        durations = ["2xx", "3xx", "4xx", "5xx", "error"].map {
            Timer(label: "fetchq_fetch_duration_seconds", dimensions: [("status_class", $0)], factory: factory)
        }
        queueWait = Timer(label: "fetchq_queue_wait_seconds", factory: factory)
        workerRestarts = Counter(label: "fetchq_worker_restarts_total", factory: factory)
        deliveryDelivered = counter("fetchq_webhook_deliveries_total", "result", "delivered")
        deliveryRetried = counter("fetchq_webhook_deliveries_total", "result", "retry")
        deliveryFailed = counter("fetchq_webhook_deliveries_total", "result", "failed")
        hostLimitDecreases = Counter(label: "fetchq_host_limit_decreases_total", factory: factory)
        robotsFetches = Dictionary(
            uniqueKeysWithValues: ["rules", "allowed", "unavailable"].map {
                ($0, counter("fetchq_robots_fetches_total", "result", $0))
            })
        robotsRefusals = Dictionary(
            uniqueKeysWithValues: ["robots_disallowed", "robots_unavailable"].map {
                ($0, counter("fetchq_robots_refused_tasks_total", "reason", String($0.dropFirst("robots_".count))))
            })
    }

    /// An origin's robots.txt fetched, with this result (`RobotsAnswer.result`).
    func robotsFetched(result: String) { robotsFetches[result]?.increment() }

    /// A task failed by robots.txt (`robots_disallowed` or `robots_unavailable`): it finished failed.
    func refusedByRobots(error: String) {
        robotsRefusals[error]?.increment()
        finishedFailed.increment()
    }

    /// Metrics that go nowhere, for tests and tools.
    public static let none = EngineMetrics(factory: NOOPMetricsHandler.instance)

    /// One finished attempt: its result, how long the fetch took, and, for tasks that finished,
    /// their final state.
    func attempt(statusCode: Int?, durationMillis: Int, disposition: Disposition) {
        switch disposition {
        case .succeeded:
            succeeded.increment()
            finishedSucceeded.increment()
        case .failed:
            failed.increment()
            finishedFailed.increment()
        case .retry:
            retried.increment()
        }
        // 2xx, 3xx, 4xx, 5xx are 0...3; no response (or an odd status) is `error`.
        let statusClass = statusCode.map { $0 / 100 } ?? 0
        durations[(2...5).contains(statusClass) ? statusClass - 2 : 4].recordMilliseconds(durationMillis)
    }

    /// One webhook delivery attempt ended (`gone` counts as failed).
    func delivery(_ next: DeliveryResult.Next) {
        switch next {
        case .delivered: deliveryDelivered.increment()
        case .retry: deliveryRetried.increment()
        case .failed, .gone: deliveryFailed.increment()
        }
    }

    /// A claimed task waited this long between being due and being started.
    func waited(millis: Int64) { queueWait.recordMilliseconds(max(0, millis)) }
}
