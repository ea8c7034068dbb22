// What the webhook outbox holds and answers: deliveries, their states, work and results.

/// A delivery's state. The same strings appear in the SQL `CHECK` and openapi.yaml.
public enum DeliveryState: String, Sendable, CaseIterable {
    /// Waiting for its first or next attempt.
    case pending
    /// A receiver answered 2xx.
    case delivered
    /// Given up: attempts used up, or the receiver answered 410 Gone.
    case failed
}

/// A webhook event to send, handed to the dispatcher under a lease (its attempt number).
public struct DeliveryWork: Sendable {
    public let seq: Int64
    /// The `webhook-id`: stable across attempts.
    public let id: DeliveryID
    public let url: String
    public let payload: String
    public let attempt: Int
    public let jobSeq: Int64
    /// The job's own secret, when it set one.
    public let secret: String?

    package init(seq: Int64, id: DeliveryID, url: String, payload: String, attempt: Int, jobSeq: Int64, secret: String?)
    {
        self.seq = seq
        self.id = id
        self.url = url
        self.payload = payload
        self.attempt = attempt
        self.jobSeq = jobSeq
        self.secret = secret
    }
}

/// How one delivery attempt ended.
public struct DeliveryResult: Sendable {
    public enum Next: Sendable, Equatable {
        case delivered
        case retry(at: Int64)
        case failed
        /// 410 Gone: this and every other pending delivery of the job to that URL fail.
        case gone
    }

    public let seq: Int64
    public let attempt: Int
    public let next: Next
    public let status: Int?
    public let error: String?
    public let at: Int64

    public init(seq: Int64, attempt: Int, next: Next, status: Int?, error: String?, at: Int64) {
        self.seq = seq
        self.attempt = attempt
        self.next = next
        self.status = status
        self.error = error
        self.at = at
    }
}

/// A delivery as the API shows it.
public struct DeliveryRecord: Sendable {
    public let id: DeliveryID
    public let eventType: EventType
    public let taskID: TaskID?
    public let url: String
    public let state: DeliveryState
    public let attempts: Int
    public let lastStatus: Int?
    public let lastError: String?
    public let nextAttemptAt: Int64?
    public let createdAt: Int64
    public let deliveredAt: Int64?

    package init(
        id: DeliveryID, eventType: EventType, taskID: TaskID?, url: String, state: DeliveryState, attempts: Int,
        lastStatus: Int?, lastError: String?, nextAttemptAt: Int64?, createdAt: Int64, deliveredAt: Int64?
    ) {
        self.id = id
        self.eventType = eventType
        self.taskID = taskID
        self.url = url
        self.state = state
        self.attempts = attempts
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
    }
}

public struct DeliveryPage: Sendable {
    public let deliveries: [DeliveryRecord]
    public let nextCursor: String?

    package init(deliveries: [DeliveryRecord], nextCursor: String?) {
        self.deliveries = deliveries
        self.nextCursor = nextCursor
    }
}
