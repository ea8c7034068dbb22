import ArgumentParser
import Foundation
import JSON

/// `fetchq results JOB`: every task's outcome, as NDJSON or CSV, streamed from the service.
struct Results: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a job's results on stdout: one line per task, in submit order.",
        discussion: """
            NDJSON lines carry id, url, method, state, attempts, status_code, error, body_bytes, \
            body_truncated, duration_ms and finished_at. With --bodies DIR each stored response body is \
            written to DIR/<task id>, and the line's body_file names it.

            Example:
              fetchq results 01JD9Z6Y8T3Q8W1V2X3Y4Z5A6B --state failed --format csv > failed.csv
              fetchq results 01JD9Z6Y8T3Q8W1V2X3Y4Z5A6B --bodies pages/ | jq -r .body_file

            \(ClientExit.help)
            """)

    /// The output formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case ndjson
        case csv
    }

    static let columns = [
        "id", "url", "method", "state", "attempts", "status_code", "error", "body_bytes", "body_truncated",
        "duration_ms", "finished_at",
    ]

    @OptionGroup var client: ClientOptions
    @Argument(help: "The job id.") var job: String
    @Option(help: "Only tasks in this state (queued, running, succeeded, failed, canceled).") var state: String?
    @Option(help: "ndjson or csv.") var format: Format = .ndjson
    @Option(help: "Write each stored body to a file in this directory, named by task id.") var bodies: String?

    func run() async throws {
        try await Console.run {
            if let bodies {
                try FileManager.default.createDirectory(atPath: bodies, withIntermediateDirectories: true)
            }
            var query: [String] = []
            if let state { query.append("state=\(state)") }
            if bodies != nil { query.append("bodies=base64") }
            let path = "/v1/jobs/\(job)/results" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
            var output = BufferedOutput()
            if format == .csv {
                output.write(Self.csvRow(Self.columns + (bodies == nil ? [] : ["body_file"])))
            }
            try await APIClient.with(client) { api in
                try await ResultStream(api: api, path: path).lines { line in
                    if bodies == nil && format == .ndjson {
                        output.write(line + [0x0A])
                        return
                    }
                    guard case .object(var members) = try JSONParser.parse(line) else { return }
                    if let bodies, let id = members.first(where: { $0.0 == "id" })?.1.stringValue {
                        let encoded = members.first { $0.0 == "body_base64" }?.1.stringValue
                        members.removeAll { $0.0 == "body_base64" }
                        var file: String?
                        if let encoded, let data = Data(base64Encoded: encoded) {
                            let target = (bodies as NSString).appendingPathComponent(id)
                            guard FileManager.default.createFile(atPath: target, contents: data) else {
                                throw ClientFailure("cannot write \(target)")
                            }
                            file = target
                        }
                        members.append(("body_file", .optional(file)))
                    }
                    switch format {
                    case .ndjson: output.write(JSONValue.object(members).serialized + [0x0A])
                    case .csv:
                        let value = JSONValue.object(members)
                        let names = Self.columns + (bodies == nil ? [] : ["body_file"])
                        output.write(Self.csvRow(names.map { Self.cell(value[$0]) }))
                    }
                }
            }
            output.flush()
        }
    }

    static func cell(_ value: JSONValue?) -> String {
        switch value {
        case .string(let text)?: text
        case .integer(let number)?: String(number)
        case .bool(let flag)?: flag ? "true" : "false"
        case .number(let number)?: String(number)
        default: ""
        }
    }

    /// One RFC 4180 row: fields with a comma, quote or line break are quoted, quotes doubled.
    static func csvRow(_ fields: [String]) -> [UInt8] {
        let cells = fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }
        return Array((cells.joined(separator: ",") + "\r\n").utf8)
    }
}

/// Stdout written in large pieces.
struct BufferedOutput {
    private var buffer: [UInt8] = []

    mutating func write(_ bytes: [UInt8]) {
        buffer += bytes
        if buffer.count >= 64 * 1024 { flush() }
    }

    mutating func flush() {
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}
