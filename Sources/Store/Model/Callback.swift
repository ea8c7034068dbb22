import Foundation

/// The kinds of webhook event. The raw values appear in payloads, the SQL `CHECK` and openapi.yaml.
public enum EventType: String, Sendable, CaseIterable {
    case taskFinished = "task.finished"
    case jobFinished = "job.finished"

    /// The bit of `jobs.callback_events` that turns this event on.
    package var bit: Int {
        switch self {
        case .taskFinished: 1
        case .jobFinished: 2
        }
    }
}

/// Where a job's webhooks go, which events, and an optional per-job signing secret.
public struct Callback: Sendable, Equatable {
    public var url: String
    public var events: Set<EventType>
    /// `whsec_…`; nil means the service's secret.
    public var secret: String?

    public init(url: String, events: Set<EventType> = Set(EventType.allCases), secret: String? = nil) {
        self.url = url
        self.events = events
        self.secret = secret
    }
}
