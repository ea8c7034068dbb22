import JSON

extension Representation {
    /// The task fields a `task.finished` webhook leaves out: the request (its headers may carry
    /// credentials), the attempts log (long, and in the API) and why it waited (a finished task does
    /// not). Everything else is what
    /// `GET /v1/tasks/{id}` showed at that moment.
    public static let taskFieldsLeftOutOfEvents: Set<String> = [
        "request", "attempts_log", "waiting_for", "waiting_until",
    ]

    /// The body of a `task.finished` webhook.
    public static func taskFinished(_ task: TaskRecord) -> JSONValue {
        guard case .object(let members) = Representation.task(task) else { return .null }
        let data = JSONValue.object(members.filter { !taskFieldsLeftOutOfEvents.contains($0.0) })
        return event(.taskFinished, at: task.updatedAt, data: data)
    }

    /// The body of a `job.finished` webhook: the job as `GET /v1/jobs/{id}` shows it.
    public static func jobFinished(_ job: JobRecord) -> JSONValue {
        event(.jobFinished, at: job.finishedAt ?? job.createdAt, data: Representation.job(job))
    }

    private static func event(_ type: EventType, at millis: Int64, data: JSONValue) -> JSONValue {
        .object([("type", .string(type.rawValue)), ("timestamp", timestamp(millis)), ("data", data)])
    }
}
