/// The API's routes, parsed from the path's segments.
enum Route: Equatable {
    case health
    case openAPI
    case jobs
    case job(String)
    case jobTasks(String)
    case jobCancel(String)
    case jobSeal(String)
    case jobResults(String)
    case task(String)
    case taskBody(String)
    case taskCancel(String)
    case taskRetry(String)
    case jobDeliveries(String)
    case redeliver(String)
    case hosts
    case nodes
    case metrics

    init?(_ segments: [String]) {
        switch (segments.count, segments.first, segments.dropFirst().first) {
        case (1, "healthz", _): self = .health
        case (1, "openapi.yaml", _): self = .openAPI
        case (1, "metrics", _): self = .metrics
        case (2, "v1", "hosts"): self = .hosts
        case (2, "v1", "nodes"): self = .nodes
        case (2, "v1", "jobs"): self = .jobs
        case (3, "v1", "jobs"): self = .job(segments[2])
        case (4, "v1", "jobs") where segments[3] == "tasks": self = .jobTasks(segments[2])
        case (4, "v1", "jobs") where segments[3] == "cancel": self = .jobCancel(segments[2])
        case (4, "v1", "jobs") where segments[3] == "seal": self = .jobSeal(segments[2])
        case (4, "v1", "jobs") where segments[3] == "results": self = .jobResults(segments[2])
        case (3, "v1", "tasks"): self = .task(segments[2])
        case (4, "v1", "tasks") where segments[3] == "body": self = .taskBody(segments[2])
        case (4, "v1", "tasks") where segments[3] == "cancel": self = .taskCancel(segments[2])
        case (4, "v1", "tasks") where segments[3] == "retry": self = .taskRetry(segments[2])
        case (4, "v1", "jobs") where segments[3] == "deliveries": self = .jobDeliveries(segments[2])
        case (4, "v1", "deliveries") where segments[3] == "redeliver": self = .redeliver(segments[2])
        default: return nil
        }
    }

    /// Health and the contract stay open; everything under `/v1`, and `/metrics`, needs a token when
    /// tokens are set.
    var needsToken: Bool {
        switch self {
        case .health, .openAPI: false
        default: true
        }
    }

    /// The route as `openapi.yaml` names it, for metrics labels (never the raw path).
    var template: String {
        switch self {
        case .health: "/healthz"
        case .openAPI: "/openapi.yaml"
        case .metrics: "/metrics"
        case .jobs: "/v1/jobs"
        case .job: "/v1/jobs/{id}"
        case .jobTasks: "/v1/jobs/{id}/tasks"
        case .jobCancel: "/v1/jobs/{id}/cancel"
        case .jobSeal: "/v1/jobs/{id}/seal"
        case .jobResults: "/v1/jobs/{id}/results"
        case .jobDeliveries: "/v1/jobs/{id}/deliveries"
        case .task: "/v1/tasks/{id}"
        case .taskBody: "/v1/tasks/{id}/body"
        case .taskCancel: "/v1/tasks/{id}/cancel"
        case .taskRetry: "/v1/tasks/{id}/retry"
        case .redeliver: "/v1/deliveries/{id}/redeliver"
        case .hosts: "/v1/hosts"
        case .nodes: "/v1/nodes"
        }
    }

    /// The methods each route answers.
    var methods: [String] {
        switch self {
        case .jobs, .jobTasks: ["GET", "HEAD", "POST"]
        case .jobCancel, .jobSeal, .taskCancel, .taskRetry, .redeliver: ["POST"]
        case .job: ["GET", "HEAD", "DELETE"]
        case .health, .openAPI, .task, .taskBody, .jobDeliveries, .jobResults, .hosts, .nodes, .metrics:
            ["GET", "HEAD"]
        }
    }
}
