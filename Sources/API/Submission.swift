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

    public init(timeoutMillis: Int = 30_000, maxAttempts: Int = 3) {
        self.timeoutMillis = timeoutMillis
        self.maxAttempts = maxAttempts
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
        "callback_url", "callback_events", "callback_secret", "open",
    ]
    /// What a batch appended to an open job may set: its tasks and their defaults, not the job's own fields.
    static let batchFields: Set<String> = [
        "tasks", "timeout_ms", "max_attempts", "priority", "not_before", "delay_ms", "retry_base_ms", "retry_max_ms",
    ]
    static let taskFields: Set<String> = [
        "url", "method", "headers", "body", "body_base64", "timeout_ms", "max_attempts", "priority", "not_before",
        "delay_ms",
    ]

    /// What a job sets for all its tasks; each task may override the first four.
    private struct JobSettings {
        var timeout: Int
        var attempts: Int
        var priority: Int
        var notBefore: Int64?
        var retryBase: Int?
        var retryMax: Int?
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
        let settings = JobSettings(
            timeout: timeout ?? defaults.timeoutMillis, attempts: attempts ?? defaults.maxAttempts,
            priority: priority ?? 0, notBefore: try start(document, at: "", now: now),
            retryBase: try integer(document["retry_base_ms"], "retry_base_ms", in: 1...limits.maxRetryMillis),
            retryMax: try integer(document["retry_max_ms"], "retry_max_ms", in: 1...limits.maxRetryMillis))
        var tasks: [NewTask] = []
        tasks.reserveCapacity(taskValues.count)
        for (index, value) in taskValues.enumerated() {
            tasks.append(try task(value, index: index, settings, now: now))
        }
        return NewJob(tasks: tasks, timeoutMillis: settings.timeout, callback: try callback(document), open: open)
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
            retryMaxMillis: job.retryMax)
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

    /// An absolute http(s) URL with a host; answers it, its lower-cased `host[:port]` (the unit of
    /// per-host limits), and its host as written (for the destination guard).
    static func url(
        _ value: JSONValue, at field: @autoclosure () -> String, limit: Int
    ) throws(Problem) -> (url: String, hostAndPort: String, host: String) {
        guard case .string(let text) = value else {
            throw Problem.invalidField(field(), "`url` must be a string, not \(value.typeName).")
        }
        guard text.utf8.count <= limit else {
            throw Problem.invalidField(field(), "The URL is longer than \(limit) bytes.")
        }
        guard let (hostAndPort, host) = plainHTTPURL(text) ?? parsedHTTPURL(text) else {
            throw Problem.invalidField(field(), "The URL must be an absolute http:// or https:// URL with a host.")
        }
        return (text, hostAndPort, host)
    }

    /// `hostAndPort` and `host` of `url(_:at:limit:)` as URLComponents reads them; nil if `text` is
    /// not an absolute http(s) URL with a host and a valid port, or holds white space.
    static func parsedHTTPURL(_ text: String) -> (hostAndPort: String, host: String)? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            components.port.map({ (1...65535).contains($0) }) ?? true,
            !Self.containsWhitespace(text)
        else { return nil }
        return (host.lowercased() + (components.port.map { ":\($0)" } ?? ""), host)
    }

    /// `parsedHTTPURL` for the URLs nearly every submission holds, read byte by byte: URLComponents
    /// (and the IDNA pass of its `host`) was a fifth of a submission's instructions. Takes only
    /// `http[s]://` a host of dot-separated letter, digit and hyphen labels, an optional port, and a
    /// path and query of characters RFC 3986 allows unescaped (or `%` and two hex digits). Anything
    /// else — user info, IP-v6 literals, `xn--` or percent-encoded hosts, fragments, characters to
    /// escape — answers nil and takes the slow way. Where it answers, it answers what
    /// `parsedHTTPURL` does (`SubmissionURLTests` compares the two).
    static func plainHTTPURL(_ text: String) -> (hostAndPort: String, host: String)? {
        text.utf8.withContiguousStorageIfAvailable { plainHTTPURL($0) } ?? nil
    }

    private static func plainHTTPURL(_ bytes: UnsafeBufferPointer<UInt8>) -> (hostAndPort: String, host: String)? {
        func letter(_ byte: UInt8, _ lower: Unicode.Scalar) -> Bool { byte | 0x20 == UInt8(ascii: lower) }
        guard bytes.count > 7, letter(bytes[0], "h"), letter(bytes[1], "t"), letter(bytes[2], "t"),
            letter(bytes[3], "p")
        else { return nil }
        var index = letter(bytes[4], "s") ? 5 : 4
        guard bytes.count > index + 3, bytes[index] == UInt8(ascii: ":"), bytes[index + 1] == UInt8(ascii: "/"),
            bytes[index + 2] == UInt8(ascii: "/")
        else { return nil }
        index += 3
        // The host: labels of 1 to 63 letters, digits and hyphens, not starting or ending with a
        // hyphen, without "--" (which IDNA gives a meaning), separated by single dots.
        let hostStart = index
        var labelStart = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                guard Self.isPlainLabel(bytes, labelStart..<index) else { return nil }
                labelStart = index + 1
            } else if !(Self.isAlphanumeric(byte) || byte == UInt8(ascii: "-")) {
                break
            }
            index += 1
        }
        guard Self.isPlainLabel(bytes, labelStart..<index), index - hostStart <= 253 else { return nil }
        let hostEnd = index
        var port: Int?
        if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
            index += 1
            let digitsStart = index
            var value = 0
            while index < bytes.count, index - digitsStart < 5, (0x30...0x39).contains(bytes[index]) {
                value = value * 10 + Int(bytes[index] - 0x30)
                index += 1
            }
            guard index > digitsStart, (1...65535).contains(value) else { return nil }
            port = value
        }
        guard index == bytes.count || bytes[index] == UInt8(ascii: "/") || bytes[index] == UInt8(ascii: "?") else {
            return nil
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, Self.isHexDigit(bytes[index + 1]), Self.isHexDigit(bytes[index + 2])
                else { return nil }
                index += 3
            } else {
                guard Self.isPlainPathByte(byte) else { return nil }
                index += 1
            }
        }
        let host = UnsafeBufferPointer(rebasing: bytes[hostStart..<hostEnd])
        var lowered = [UInt8](host)
        for offset in lowered.indices where (0x41...0x5A).contains(lowered[offset]) { lowered[offset] |= 0x20 }
        if let port {
            lowered.append(UInt8(ascii: ":"))
            lowered.append(contentsOf: String(port).utf8)
        }
        return (String(decoding: lowered, as: UTF8.self), String(decoding: host, as: UTF8.self))
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }

    private static func isPlainLabel(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard (1...63).contains(range.count), bytes[range.lowerBound] != UInt8(ascii: "-"),
            bytes[range.upperBound - 1] != UInt8(ascii: "-")
        else { return false }
        for index in range.dropLast() where bytes[index] == UInt8(ascii: "-") && bytes[index + 1] == UInt8(ascii: "-") {
            return false
        }
        return true
    }

    /// RFC 3986 `pchar` without `%`, and `/` and `?`: what a path and a query may hold unescaped.
    private static let plainPathBytes: [Bool] = (0..<256).map { byte in
        isAlphanumeric(UInt8(byte)) || "-._~!$&'()*+,;=:@/?".utf8.contains(UInt8(byte))
    }

    private static func isPlainPathByte(_ byte: UInt8) -> Bool { plainPathBytes[Int(byte)] }

    /// Whether `text` holds any white space. ASCII text (nearly every URL) is checked byte by byte;
    /// only other text pays for Unicode's character properties.
    static func containsWhitespace(_ text: String) -> Bool {
        var ascii = true
        for byte in text.utf8 {
            if byte == 0x20 || (0x09...0x0D).contains(byte) { return true }
            if byte >= 0x80 { ascii = false }
        }
        return !ascii && text.contains(where: \.isWhitespace)
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
