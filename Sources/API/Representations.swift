import Foundation
import Store

/// The JSON shapes of the API's resources, as `openapi.yaml` describes them.
enum Representation {
    static func timestamp(_ millis: Int64?) -> JSONValue {
        guard let millis else { return .null }
        let date = Date(timeIntervalSince1970: Double(millis) / 1000)
        return .string(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    static func counts(_ counts: StateCounts) -> JSONValue {
        .object(TaskState.allCases.map { ($0.rawValue, .integer(counts[$0])) })
    }

    static func job(_ job: JobRecord) -> JSONValue {
        .object([
            ("id", .string(job.id.rawValue)), ("state", .string(job.state.rawValue)),
            ("task_count", .integer(job.taskCount)), ("counts", counts(job.counts)),
            ("timeout_ms", .integer(job.timeoutMillis)), ("callback_url", .optional(job.callbackURL)),
            ("callback_events", .array(job.callbackEvents.map { .string($0.rawValue) })),
            ("created_at", timestamp(job.createdAt)), ("finished_at", timestamp(job.finishedAt)),
        ])
    }

    static func delivery(_ delivery: DeliveryRecord) -> JSONValue {
        .object([
            ("id", .string(delivery.id)), ("event_type", .string(delivery.eventType.rawValue)),
            ("task_id", .optional(delivery.taskID?.rawValue)), ("url", .string(delivery.url)),
            ("state", .string(delivery.state.rawValue)), ("attempts", .integer(delivery.attempts)),
            ("last_status", .optional(delivery.lastStatus)), ("last_error", .optional(delivery.lastError)),
            ("next_attempt_at", timestamp(delivery.nextAttemptAt)), ("created_at", timestamp(delivery.createdAt)),
            ("delivered_at", timestamp(delivery.deliveredAt)),
        ])
    }

    static func submitted(_ job: SubmittedJob) -> JSONValue {
        .object([
            ("id", .string(job.id.rawValue)), ("state", .string(JobState.pending.rawValue)),
            ("task_count", .integer(job.taskIDs.count)), ("task_ids", .array(job.taskIDs.map { .string($0.rawValue) })),
            ("created_at", timestamp(job.createdAt)),
        ])
    }

    static func task(_ task: TaskRecord) -> JSONValue {
        let request: JSONValue = .object([
            ("url", .string(task.request.url)), ("method", .string(task.request.method)),
            ("headers", .object(task.request.headers.map { ($0.0, .string($0.1)) })),
            ("body_bytes", .integer(task.request.body?.count ?? 0)),
        ])
        return .object([
            ("id", .string(task.id.rawValue)), ("job_id", .string(task.jobID.rawValue)),
            ("state", .string(task.state.rawValue)),
            ("failure_reason", .optional(task.failureReason?.rawValue)), ("request", request),
            ("priority", .integer(task.priority)),
            ("attempts", .integer(task.attempts)), ("max_attempts", .integer(task.maxAttempts)),
            ("timeout_ms", .integer(task.timeoutMillis)), ("next_attempt_at", timestamp(task.nextAttemptAt)),
            ("created_at", timestamp(task.createdAt)), ("updated_at", timestamp(task.updatedAt)),
            ("started_at", timestamp(task.startedAt)), ("finished_at", timestamp(task.finishedAt)),
            ("outcome", task.outcome.map { outcome($0, taskID: task.id) } ?? .null),
            ("attempts_log", .array(task.attemptsLog.map(attempt))),
        ])
    }

    static func attempt(_ attempt: AttemptRecord) -> JSONValue {
        .object([
            ("attempt", .integer(attempt.attempt)), ("started_at", timestamp(attempt.startedAt)),
            ("finished_at", timestamp(attempt.finishedAt)), ("status_code", .optional(attempt.statusCode)),
            ("duration_ms", .optional(attempt.durationMillis)), ("error", .optional(attempt.error)),
            ("error_message", .optional(attempt.errorMessage)),
        ])
    }

    static func outcome(_ outcome: Outcome, taskID: TaskID) -> JSONValue {
        .object([
            ("status_code", .optional(outcome.statusCode)),
            (
                "headers",
                outcome.headers.map { headers in
                    .object(headers.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
                } ?? .null
            ),
            ("body_bytes", .optional(outcome.bodyBytes)), ("body_truncated", .bool(outcome.bodyTruncated)),
            ("body_url", outcome.statusCode == nil ? .null : .string("/v1/tasks/\(taskID.rawValue)/body")),
            ("duration_ms", .optional(outcome.durationMillis)), ("error", .optional(outcome.error)),
            ("error_message", .optional(outcome.errorMessage)),
        ])
    }

    static func page(_ page: TaskPage) -> JSONValue {
        .object([("tasks", .array(page.tasks.map(task))), ("next_cursor", .optional(page.nextCursor))])
    }
}

extension HTTPResponse {
    static func json(_ status: Int, _ value: JSONValue, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: value.serialized)
    }
}
