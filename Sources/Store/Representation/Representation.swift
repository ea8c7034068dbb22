import Foundation
import JSON

/// The JSON shapes of the API's resources, as `openapi.yaml` describes them.
public enum Representation {
    public static func timestamp(_ millis: Int64?) -> JSONValue {
        guard let millis else { return .null }
        return .string(iso8601(millis))
    }

    /// `2026-11-25T19:00:00.123Z` for milliseconds since the Unix epoch, in UTC. Written out by
    /// hand (the proleptic Gregorian civil date from a day count): Foundation's ISO 8601 style
    /// builds calendar components on every call, 5 % of a status read when profiled.
    public static func iso8601(_ millis: Int64) -> String {
        let seconds = millis.floorDivided(by: 1000)
        let days = seconds.floorDivided(by: 86_400)
        let secondOfDay = seconds - days * 86_400
        let shifted = days + 719_468
        let era = shifted.floorDivided(by: 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        guard (0...9999).contains(year) else {
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        }
        var text = [UInt8]()
        text.reserveCapacity(24)
        func digits(_ value: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(year, 4)
        text.append(UInt8(ascii: "-"))
        digits(month, 2)
        text.append(UInt8(ascii: "-"))
        digits(day, 2)
        text.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3_600, 2)
        text.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2)
        text.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        text.append(UInt8(ascii: "."))
        digits(millis - seconds * 1000, 3)
        text.append(UInt8(ascii: "Z"))
        return String(decoding: text, as: UTF8.self)
    }

    public static func counts(_ counts: StateCounts) -> JSONValue {
        .object(TaskState.allCases.map { ($0.rawValue, .integer(counts[$0])) })
    }

    public static func job(_ job: JobRecord) -> JSONValue {
        .object([
            ("id", .string(job.id.rawValue)), ("state", .string(job.state.rawValue)),
            ("task_count", .integer(job.taskCount)), ("open", .bool(job.isOpen)), ("paused", .bool(job.isPaused)),
            ("counts", counts(job.counts)),
            ("timeout_ms", .integer(job.timeoutMillis)), ("callback_url", .optional(job.callbackURL)),
            ("callback_events", .array(job.callbackEvents.map { .string($0.rawValue) })),
            ("created_at", timestamp(job.createdAt)), ("finished_at", timestamp(job.finishedAt)),
            ("robots_txt", .string(job.robots.rawValue)),
            ("per_host_concurrency", .optional(job.hostLimits?.concurrency)),
            ("per_host_interval_ms", .optional(job.hostLimits?.intervalMillis)),
        ])
    }

    public static func delivery(_ delivery: DeliveryRecord) -> JSONValue {
        .object([
            ("id", .string(delivery.id.rawValue)), ("event_type", .string(delivery.eventType.rawValue)),
            ("task_id", .optional(delivery.taskID?.rawValue)), ("url", .string(delivery.url)),
            ("state", .string(delivery.state.rawValue)), ("attempts", .integer(delivery.attempts)),
            ("last_status", .optional(delivery.lastStatus)), ("last_error", .optional(delivery.lastError)),
            ("next_attempt_at", timestamp(delivery.nextAttemptAt)), ("created_at", timestamp(delivery.createdAt)),
            ("delivered_at", timestamp(delivery.deliveredAt)),
        ])
    }

    public static func submitted(_ job: SubmittedJob) -> JSONValue {
        .object([
            ("id", .string(job.id.rawValue)), ("state", .string(JobState.pending.rawValue)),
            ("task_count", .integer(job.created)), ("task_ids", .array(job.taskIDs.map { .string($0.rawValue) })),
            ("duplicates", .integer(job.duplicates)), ("created_at", timestamp(job.createdAt)),
        ])
    }

    /// The answer to a batch appended to an open job: the job and the new tasks' ids.
    public static func appended(_ batch: SubmittedJob) -> JSONValue {
        .object([
            ("job_id", .string(batch.id.rawValue)), ("task_count", .integer(batch.created)),
            ("task_ids", .array(batch.taskIDs.map { .string($0.rawValue) })),
            ("duplicates", .integer(batch.duplicates)),
        ])
    }

    /// A task; `waiting` says why a queued one waits (null otherwise, and in webhook payloads).
    public static func task(_ task: TaskRecord, waiting: Waiting? = nil) -> JSONValue {
        let request: JSONValue = .object([
            ("url", .string(task.request.url)), ("method", .string(task.request.method)),
            ("headers", .object(task.request.headers.map { ($0.name, .string($0.value)) })),
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
            ("waiting_for", .optional(waiting?.reason.rawValue)), ("waiting_until", timestamp(waiting?.until)),
        ])
    }

    public static func attempt(_ attempt: AttemptRecord) -> JSONValue {
        .object([
            ("attempt", .integer(attempt.attempt)), ("started_at", timestamp(attempt.startedAt)),
            ("finished_at", timestamp(attempt.finishedAt)), ("status_code", .optional(attempt.statusCode)),
            ("duration_ms", .optional(attempt.durationMillis)), ("error", .optional(attempt.error)),
            ("error_message", .optional(attempt.errorMessage)),
        ])
    }

    public static func outcome(_ outcome: Outcome, taskID: TaskID) -> JSONValue {
        .object([
            ("status_code", .optional(outcome.statusCode)),
            (
                "headers",
                outcome.headers.map(responseHeaders) ?? .null
            ),
            ("body_bytes", .optional(outcome.bodyBytes)), ("body_truncated", .bool(outcome.bodyTruncated)),
            ("body_url", outcome.statusCode == nil ? .null : .string("/v1/tasks/\(taskID.rawValue)/body")),
            ("duration_ms", .optional(outcome.durationMillis)), ("error", .optional(outcome.error)),
            ("error_message", .optional(outcome.errorMessage)),
            ("content_encoding", .optional(outcome.decodedFrom)),
        ])
    }

    /// Response headers as an object of lower-cased names in name order. A header sent once is a
    /// string; one sent more than once (`Set-Cookie`) is an array of its values, in order.
    public static func responseHeaders(_ fields: [HeaderField]) -> JSONValue {
        var values: [String: [String]] = [:]
        for field in fields { values[field.name.lowercased(), default: []].append(field.value) }
        return .object(
            values.sorted { $0.key < $1.key }.map { name, lines in
                (name, lines.count == 1 ? .string(lines[0]) : .array(lines.map { .string($0) }))
            })
    }

    /// A page of tasks; `waiting` says why each queued one waits.
    public static func page(_ page: TaskPage, waiting: (TaskRecord) -> Waiting? = { _ in nil }) -> JSONValue {
        .object([
            ("tasks", .array(page.tasks.map { task($0, waiting: waiting($0)) })),
            ("next_cursor", .optional(page.nextCursor)),
        ])
    }
}

extension Int64 {
    /// Division rounding toward negative infinity, so times before 1970 land on the right day.
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
