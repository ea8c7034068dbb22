/// The API's routes, parsed from the path's segments.
enum Route: Equatable {
    case health
    case openAPI
    case jobs
    case job(String)
    case jobTasks(String)
    case jobCancel(String)
    case task(String)
    case taskBody(String)
    case taskCancel(String)
    case taskRetry(String)
    case jobDeliveries(String)
    case redeliver(String)

    init?(_ segments: [String]) {
        switch (segments.count, segments.first, segments.dropFirst().first) {
        case (1, "healthz", _): self = .health
        case (1, "openapi.yaml", _): self = .openAPI
        case (2, "v1", "jobs"): self = .jobs
        case (3, "v1", "jobs"): self = .job(segments[2])
        case (4, "v1", "jobs") where segments[3] == "tasks": self = .jobTasks(segments[2])
        case (4, "v1", "jobs") where segments[3] == "cancel": self = .jobCancel(segments[2])
        case (3, "v1", "tasks"): self = .task(segments[2])
        case (4, "v1", "tasks") where segments[3] == "body": self = .taskBody(segments[2])
        case (4, "v1", "tasks") where segments[3] == "cancel": self = .taskCancel(segments[2])
        case (4, "v1", "tasks") where segments[3] == "retry": self = .taskRetry(segments[2])
        case (4, "v1", "jobs") where segments[3] == "deliveries": self = .jobDeliveries(segments[2])
        case (4, "v1", "deliveries") where segments[3] == "redeliver": self = .redeliver(segments[2])
        default: return nil
        }
    }

    /// Health and the contract stay open; everything under `/v1` needs a token when tokens are set.
    var needsToken: Bool {
        switch self {
        case .health, .openAPI: false
        default: true
        }
    }

    /// The methods each route answers.
    var methods: [String] {
        switch self {
        case .jobs, .jobCancel, .taskCancel, .taskRetry, .redeliver: ["POST"]
        case .job: ["GET", "HEAD", "DELETE"]
        case .health, .openAPI, .jobTasks, .task, .taskBody, .jobDeliveries: ["GET", "HEAD"]
        }
    }
}
