import Engine
import Foundation
import JSON
import Store

/// Limits on what one submission may contain; each protects the service from a client's mistake.
public struct SubmissionLimits: Sendable {
    public var maxTasks = 10_000
    public var maxURLBytes = 8 * 1024
    public var maxHeadersPerTask = 64
    public var maxHeaderBytes = 8 * 1024
    public var maxTaskBodyBytes = 1 << 20
    public var maxTimeoutMillis = 600_000
    public var maxAttempts = 100
    /// Longest delay before a task's first attempt (30 days).
    public var maxDelayMillis = 30 * 24 * 3_600_000
    public var maxRetryMillis = 86_400_000

    public init() {}
}

/// Defaults for what a submission leaves out.
public struct SubmissionDefaults: Sendable {
    public var timeoutMillis = 30_000
    public var maxAttempts = 3
    /// For a job that does not set `robots_txt` (`--robots-txt`).
    public var robots = RobotsMode.ignore

    public init(timeoutMillis: Int = 30_000, maxAttempts: Int = 3, robots: RobotsMode = .ignore) {
        self.timeoutMillis = timeoutMillis
        self.maxAttempts = maxAttempts
        self.robots = robots
    }
}

/// Turns the body of `POST /v1/jobs` into a `NewJob`, or a problem naming the first bad field.
/// Unknown fields are refused, so a typo (`timeout` for `timeout_ms`) is not silently ignored.
struct SubmissionParser {
    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    /// Headers the HTTP client sets itself; a task may not set them.
    static let reservedHeaders: Set<String> = [
        "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive",
        "proxy-connection",
    ]
    static let jobFields: Set<String> = [
        "tasks", "timeout_ms", "max_attempts", "priority", "not_before", "delay_ms", "retry_base_ms", "retry_max_ms",
        "callback_url", "callback_events", "callback_secret", "open", "robots_txt", "per_host_concurrency",
        "per_host_interval_ms", "decode_content", "unique_urls",
    ]
    /// What a batch appended to an open job may set: its tasks and their defaults, not the job's own fields.
    static let batchFields: Set<String> = [
        "tasks", "timeout_ms", "max_attempts", "priority", "not_before", "delay_ms", "retry_base_ms", "retry_max_ms",
        "decode_content",
    ]
    static let taskFields: Set<String> = [
        "url", "method", "headers", "body", "body_base64", "timeout_ms", "max_attempts", "priority", "not_before",
        "delay_ms", "decode_content",
    ]

    /// What a job sets for all its tasks; each task may override the first four and `decode`.
    private struct JobSettings {
        var timeout: Int
        var attempts: Int
        var priority: Int
        var notBefore: Int64?
        var retryBase: Int?
        var retryMax: Int?
        var decode = false
    }

    let limits: SubmissionLimits
    let defaults: SubmissionDefaults
    let destinations: DestinationGuard

    /// Parses a new job (`batch` false) or a batch of tasks for an open job (`batch` true).
    func parse(_ body: [UInt8], now: Int64, batch: Bool = false) throws(Problem) -> NewJob {
        let document: JSONValue
        do {
            document = try JSONParser.parse(body)
        } catch {
            throw Problem.malformedJSON(error)
        }
        guard case .object(let members) = document else {
            throw Problem.invalidField("body", "The body must be a JSON object, not \(document.typeName).")
        }
        try Self.refuseUnknown(members, allowed: batch ? Self.batchFields : Self.jobFields, at: "")
        var open = false
        if let value = document["open"], value != .null {
            guard case .bool(let flag) = value else {
                throw Problem.invalidField("open", "`open` must be a boolean, not \(value.typeName).")
            }
            open = flag
        }
        let timeout = try integer(document["timeout_ms"], "timeout_ms", in: 1...limits.maxTimeoutMillis)
        let attempts = try integer(document["max_attempts"], "max_attempts", in: 1...limits.maxAttempts)
        let priority = try integer(document["priority"], "priority", in: -1_000_000...1_000_000)
        guard let tasksValue = document["tasks"] ?? (open ? .array([]) : nil) else {
            throw Problem.invalidField("tasks", "`tasks` is required: an array of 1 to \(limits.maxTasks) tasks.")
        }
        guard case .array(let taskValues) = tasksValue else {
            throw Problem.invalidField("tasks", "`tasks` must be an array, not \(tasksValue.typeName).")
        }
        guard !taskValues.isEmpty || open else { throw Problem.invalidField("tasks", "`tasks` must not be empty.") }
        guard taskValues.count <= limits.maxTasks else {
            throw Problem.invalidField(
                "tasks", "A job holds at most \(limits.maxTasks) tasks; this one has \(taskValues.count).")
        }
        var settings = JobSettings(
            timeout: timeout ?? defaults.timeoutMillis, attempts: attempts ?? defaults.maxAttempts,
            priority: priority ?? 0, notBefore: try start(document, at: "", now: now),
            retryBase: try integer(document["retry_base_ms"], "retry_base_ms", in: 1...limits.maxRetryMillis),
            retryMax: try integer(document["retry_max_ms"], "retry_max_ms", in: 1...limits.maxRetryMillis))
        settings.decode = try flag(document["decode_content"], "decode_content") ?? false
        let unique = try flag(document["unique_urls"], "unique_urls") ?? false
        var tasks: [NewTask] = []
        tasks.reserveCapacity(taskValues.count)
        for (index, value) in taskValues.enumerated() {
            tasks.append(try task(value, index: index, settings, now: now))
        }
        var job = NewJob(
            tasks: tasks, timeoutMillis: settings.timeout, callback: try callback(document), open: open,
            robots: try robots(document["robots_txt"]) ?? defaults.robots,
            hostLimits: JobHostLimits.unless(
                concurrency: try integer(document["per_host_concurrency"], "per_host_concurrency", in: 1...1_000),
                intervalMillis: try integer(document["per_host_interval_ms"], "per_host_interval_ms", in: 0...3_600_000)
            ))
        job.uniqueURLs = unique
        return job
    }

    /// `robots_txt`: `"obey"` or `"ignore"`; nil when absent.
    private func robots(_ value: JSONValue?) throws(Problem) -> RobotsMode? {
        guard let value, value != .null else { return nil }
        guard let text = value.stringValue, let mode = RobotsMode(rawValue: text) else {
            throw Problem.invalidField("robots_txt", "`robots_txt` must be \"obey\" or \"ignore\".")
        }
        return mode
    }

    /// Where to call back: `callback_url`, with optional `callback_events` and `callback_secret`.
    private func callback(_ document: JSONValue) throws(Problem) -> Callback? {
        guard let urlValue = document["callback_url"], urlValue != .null else {
            for field in ["callback_events", "callback_secret"] where document[field] != nil {
                throw Problem.invalidField(field, "`\(field)` needs a `callback_url`.")
            }
            return nil
        }
        let (url, _) = try checkedURL(urlValue, at: "callback_url")
        var events = Set(EventType.allCases)
        if let value = document["callback_events"], value != .null {
            let allowed = EventType.allCases.map(\.rawValue).joined(separator: ", ")
            guard case .array(let items) = value, !items.isEmpty else {
                throw Problem.invalidField(
                    "callback_events", "`callback_events` must be a non-empty array of: \(allowed).")
            }
            events = []
            for (index, item) in items.enumerated() {
                guard let name = item.stringValue, let event = EventType(rawValue: name) else {
                    throw Problem.invalidField("callback_events[\(index)]", "Unknown event; known events: \(allowed).")
                }
                events.insert(event)
            }
        }
        var secret: String?
        if let value = document["callback_secret"], value != .null {
            guard let text = value.stringValue, Self.isWebhookSecret(text) else {
                throw Problem.invalidField(
                    "callback_secret", "`callback_secret` must be whsec_ followed by base64 of 24 to 64 bytes.")
            }
            secret = text
        }
        return Callback(url: url, events: events, secret: secret)
    }

    static func isWebhookSecret(_ text: String) -> Bool {
        guard text.hasPrefix("whsec_"), let bytes = Data(base64Encoded: String(text.dropFirst(6))) else { return false }
        return (24...64).contains(bytes.count)
    }

    /// When a job or task may first run, from `not_before` (RFC 3339) or `delay_ms`; nil for now.
    /// `prefix` (and every field name below) is only made when a problem is thrown: building
    /// `tasks[123].delay_ms` for each task of each submission showed in profiles.
    private func start(
        _ value: JSONValue, at prefix: @autoclosure () -> String, now: Int64
    ) throws(Problem) -> Int64? {
        switch (value["not_before"], value["delay_ms"]) {
        case (nil, nil), (.null?, nil), (nil, .null?):
            return nil
        case (let notBefore?, nil):
            guard case .string(let text) = notBefore, let millis = Self.parseTimestamp(text) else {
                throw Problem.invalidField(
                    "\(prefix())not_before", "`not_before` must be an RFC 3339 time such as 2026-01-02T03:04:05Z.")
            }
            guard millis <= now + Int64(limits.maxDelayMillis) else {
                throw Problem.invalidField("\(prefix())not_before", "`not_before` is more than 30 days ahead.")
            }
            return millis
        case (nil, let delay?):
            let millis = try integer(delay, "\(prefix())delay_ms", in: 0...limits.maxDelayMillis) ?? 0
            return now + Int64(millis)
        case (_?, _?):
            throw Problem.invalidField("\(prefix())delay_ms", "Give `not_before` or `delay_ms`, not both.")
        }
    }

    static func parseTimestamp(_ text: String) -> Int64? {
        let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        guard let date = (try? withFraction.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text)) else {
            return nil
        }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// The task at `tasks[index]`.
    private func task(_ value: JSONValue, index: Int, _ job: JobSettings, now: Int64) throws(Problem) -> NewTask {
        func path() -> String { "tasks[\(index)]" }
        guard case .object(let members) = value else {
            throw Problem.invalidField(path(), "Each task must be an object, not \(value.typeName).")
        }
        try Self.refuseUnknown(members, allowed: Self.taskFields, at: "\(path()).")
        guard let urlValue = value["url"] else {
            throw Problem.invalidField("\(path()).url", "`url` is required.")
        }
        let (url, host) = try checkedURL(urlValue, at: "\(path()).url")
        var method = "GET"
        if let methodValue = value["method"] {
            guard case .string(let text) = methodValue, Self.methods.contains(text.uppercased()) else {
                throw Problem.invalidField(
                    "\(path()).method", "`method` must be one of \(Self.methods.sorted().joined(separator: ", ")).")
            }
            method = text.uppercased()
        }
        let headers = try self.headers(value["headers"], at: "\(path()).headers")
        let body = try self.body(value, at: path())
        return NewTask(
            request: FetchRequest(url: url, method: method, headers: headers, body: body), host: host,
            timeoutMillis: try integer(value["timeout_ms"], "\(path()).timeout_ms", in: 1...limits.maxTimeoutMillis)
                ?? job.timeout,
            maxAttempts: try integer(value["max_attempts"], "\(path()).max_attempts", in: 1...limits.maxAttempts)
                ?? job.attempts,
            priority: try integer(value["priority"], "\(path()).priority", in: -1_000_000...1_000_000)
                ?? job.priority,
            notBefore: try start(value, at: "\(path()).", now: now) ?? job.notBefore, retryBaseMillis: job.retryBase,
            retryMaxMillis: job.retryMax,
            decodeContent: try flag(value["decode_content"], "\(path()).decode_content") ?? job.decode)
    }

    /// A boolean field; nil when absent or null.
    private func flag(_ value: JSONValue?, _ field: @autoclosure () -> String) throws(Problem) -> Bool? {
        guard let value, value != .null else { return nil }
        guard case .bool(let flag) = value else {
            let field = field()
            throw Problem.invalidField(field, "`\(field)` must be a boolean, not \(value.typeName).")
        }
        return flag
    }

    private static func refuseUnknown(
        _ members: [(String, JSONValue)], allowed: Set<String>, at prefix: @autoclosure () -> String
    ) throws(Problem) {
        if let unknown = members.first(where: { !allowed.contains($0.0) }) {
            throw Problem.invalidField(
                "\(prefix())\(unknown.0)",
                "Unknown field `\(unknown.0)`; allowed here: \(allowed.sorted().joined(separator: ", ")).")
        }
    }

    private func integer(
        _ value: JSONValue?, _ field: @autoclosure () -> String, in range: ClosedRange<Int>
    ) throws(Problem) -> Int? {
        guard let value, value != .null else { return nil }
        guard case .integer(let number) = value, range.contains(number) else {
            let field = field()
            throw Problem.invalidField(
                field, "`\(field)` must be an integer from \(range.lowerBound) to \(range.upperBound).")
        }
        return number
    }

    /// A URL as `url(_:at:limit:)` checks it, whose host is not a refused IP literal.
    private func checkedURL(_ value: JSONValue, at field: @autoclosure () -> String) throws(Problem) -> (String, String)
    {
        let (url, host, literal) = try Self.url(value, at: field(), limit: limits.maxURLBytes)
        if destinations.refuses(literal) {
            throw Problem(
                status: 422, code: "blocked_destination", title: "Destination not allowed",
                detail: "\(literal) is a private or reserved address; fetchq does not connect there "
                    + "unless started with --allow-private-targets or --allow-cidr.", field: field())
        }
        return (url, host)
    }

    private func headers(_ value: JSONValue?, at field: @autoclosure () -> String) throws(Problem) -> [HeaderField] {
        guard let value, value != .null else { return [] }
        let field = field()
        guard case .object(let members) = value else {
            throw Problem.invalidField(field, "`headers` must be an object of names to string values.")
        }
        guard members.count <= limits.maxHeadersPerTask else {
            throw Problem.invalidField(field, "A task sets at most \(limits.maxHeadersPerTask) headers.")
        }
        var headers: [HeaderField] = []
        for (name, headerValue) in members {
            let path = "\(field).\(name)"
            guard Self.isToken(name) else {
                throw Problem.invalidField(path, "`\(name)` is not a valid header name.")
            }
            guard !Self.reservedHeaders.contains(name.lowercased()) else {
                throw Problem.invalidField(path, "The `\(name)` header is set by fetchq itself.")
            }
            guard case .string(let text) = headerValue else {
                throw Problem.invalidField(path, "Header values must be strings, not \(headerValue.typeName).")
            }
            guard text.utf8.count + name.utf8.count <= limits.maxHeaderBytes,
                !text.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F })
            else {
                throw Problem.invalidField(
                    path, "Header values must be at most \(limits.maxHeaderBytes) bytes, without control characters.")
            }
            headers.append(HeaderField(name, text))
        }
        return headers
    }

    private func body(_ task: JSONValue, at path: @autoclosure () -> String) throws(Problem) -> [UInt8]? {
        let bytes: [UInt8]
        switch (task["body"], task["body_base64"]) {
        case (nil, nil), (.null?, nil), (nil, .null?): return nil
        case (.string(let text)?, nil):
            bytes = Array(text.utf8)
        case (nil, .string(let encoded)?):
            guard let data = Data(base64Encoded: encoded) else {
                throw Problem.invalidField("\(path()).body_base64", "`body_base64` is not valid base64.")
            }
            bytes = Array(data)
        case (let body?, nil):
            throw Problem.invalidField("\(path()).body", "`body` must be a string, not \(body.typeName).")
        case (nil, let encoded?):
            throw Problem.invalidField(
                "\(path()).body_base64", "`body_base64` must be a string, not \(encoded.typeName).")
        case (_?, _?):
            throw Problem.invalidField("\(path()).body", "Give `body` or `body_base64`, not both.")
        }
        guard bytes.count <= limits.maxTaskBodyBytes else {
            throw Problem.invalidField("\(path()).body", "A task body is at most \(limits.maxTaskBodyBytes) bytes.")
        }
        return bytes
    }

    /// RFC 9110 token characters.
    static func isToken(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"):
                    true
                default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
                }
            }
    }
}
