import ArgumentParser
import Foundation
import JSON
import NIOHTTP1

/// `fetchq pause JOB` or `fetchq pause --host HOST --for 10m|--until TIME`: holds a job's queued
/// tasks, or every task of a host for a while.
struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pause a job (its queued tasks wait until it is resumed), or a host for a while.",
        discussion: """
            Examples:
              fetchq pause 01JD9Z6Y8T3Q8W1V2X3Y4Z5A6B
              fetchq pause --host example.com:8080 --for 10m
              fetchq pause --host example.com --until 2026-01-02T03:04:05Z

            Running tasks finish. Undo with `fetchq resume`.

            \(ClientExit.help)
            """)

    @OptionGroup var client: ClientOptions
    @Argument(help: "The job id (or give --host).") var job: String?
    @Option(help: "Pause this host[:port] instead of a job, as `GET /v1/hosts` lists it.") var host: String?
    @Option(name: .customLong("for"), help: "How long a host pause lasts: 500ms, 30s, 10m, 2h, 1d.")
    var duration: String?
    @Option(help: "When a host pause ends (RFC 3339).") var until: String?
    @Flag(help: "Print the API's answer (JSON).") var json = false

    func validate() throws {
        switch (job, host) {
        case (nil, nil): throw ValidationError("give a job id, or --host HOST")
        case (_?, _?): throw ValidationError("give a job id or --host, not both")
        case (_?, nil):
            guard duration == nil, until == nil else { throw ValidationError("--for and --until go with --host") }
        case (nil, _?):
            guard (duration == nil) != (until == nil) else {
                throw ValidationError("give --for or --until, one of them")
            }
            if let duration, PauseTarget.millis(duration) == nil {
                throw ValidationError("--for: \(duration) is not a duration like 500ms, 30s, 10m, 2h or 1d")
            }
        }
    }

    func run() async throws {
        try await Console.run {
            let target = PauseTarget(job: job, host: host)
            var body: [UInt8]?
            if host != nil {
                let member: (String, JSONValue) =
                    if let duration, let millis = PauseTarget.millis(duration) {
                        ("for_ms", .integer(millis))
                    } else {
                        ("until", .string(until ?? ""))
                    }
                body = JSONValue.object([member]).serialized
            }
            let answer = try await APIClient.with(client) {
                try await $0.expect(.POST, target.path("pause"), body: body)
            }
            print(json ? String(decoding: answer.body, as: UTF8.self) : target.summary(answer.json, paused: true))
        }
    }
}

/// `fetchq resume JOB` or `fetchq resume --host HOST`: undoes `fetchq pause`.
struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resume a paused job, or end a host's pause at once.",
        discussion: """
            Examples:
              fetchq resume 01JD9Z6Y8T3Q8W1V2X3Y4Z5A6B
              fetchq resume --host example.com:8080

            A pause a host asked for itself (429/503 with Retry-After) is kept until its end.

            \(ClientExit.help)
            """)

    @OptionGroup var client: ClientOptions
    @Argument(help: "The job id (or give --host).") var job: String?
    @Option(help: "Resume this host[:port] instead of a job.") var host: String?
    @Flag(help: "Print the API's answer (JSON).") var json = false

    func validate() throws {
        guard (job == nil) != (host == nil) else { throw ValidationError("give a job id or --host HOST, one of them") }
    }

    func run() async throws {
        try await Console.run {
            let target = PauseTarget(job: job, host: host)
            let answer = try await APIClient.with(client) { try await $0.expect(.POST, target.path("resume")) }
            print(json ? String(decoding: answer.body, as: UTF8.self) : target.summary(answer.json, paused: false))
        }
    }
}

/// What `pause` and `resume` act on: a job or a host, its API path and a line to print.
struct PauseTarget {
    let job: String?
    let host: String?

    func path(_ verb: String) -> String {
        if let host {
            let encoded = host.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-", "."])) ?? host
            return "/v1/hosts/\(encoded)/\(verb)"
        }
        return "/v1/jobs/\(job ?? "")/\(verb)"
    }

    func summary(_ answer: JSONValue, paused: Bool) -> String {
        if let host {
            let until = answer["paused_until"]?.stringValue
            return until.map { "host \(host) paused until \($0)" } ?? "host \(host) not paused"
        }
        return "job \(job ?? "") \(paused ? "paused" : "resumed")"
    }

    /// Milliseconds of `500ms`, `30s`, `10m`, `2h`, `1d`; nil for anything else or zero.
    static func millis(_ text: String) -> Int? {
        let units: [(String, Int)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy(\.isNumber), let value = Int(number), value > 0,
                value <= Int.max / factor
            else { return nil }
            return value * factor
        }
        return nil
    }
}
