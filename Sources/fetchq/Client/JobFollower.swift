import Foundation
import JSON
import NIOCore
import NIOHTTP1

/// Follows a job until it completes: long-polls `GET /v1/jobs/{id}?wait=S` (and polls every
/// `pollInterval` when the service answers at once, as one without long-polls does), draws a
/// progress bar on a terminal or writes a plain line every `lineInterval` otherwise, then
/// summarizes the job and answers the exit status.
struct JobFollower {
    let api: APIClient
    let jobID: String
    var terminal = Console.stderrIsTerminal
    var pollInterval: Duration = .milliseconds(300)
    var lineInterval: Duration = .seconds(5)

    func followAndSummarize() async throws -> Int32 {
        let start = ContinuousClock.now
        let final = try await follow()
        return try await Summary.print(final, jobID: jobID, elapsed: ContinuousClock.now - start, api: api)
    }

    /// Answers the progress of the completed job.
    func follow() async throws -> Progress {
        let clock = ContinuousClock()
        let start = clock.now
        var first: Progress?
        var lastLine = clock.now - lineInterval
        while true {
            let asked = clock.now
            let wait = terminal ? 1 : 5
            let answer = try await api.expect(
                .GET, "/v1/jobs/\(jobID)?wait=\(wait)", timeout: .seconds(Int64(wait + 30)))
            let progress = Progress(job: answer.json)
            let base = first ?? progress
            first = base
            let seconds =
                Double((clock.now - start).components.seconds) + Double((clock.now - start).components.attoseconds)
                / 1e18
            let rate = seconds > 0.5 ? Double(progress.finished - base.finished) / seconds : 0
            if terminal {
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + progress.bar(rate: rate)).utf8))
            } else if clock.now - lastLine >= lineInterval || progress.completed {
                Console.error("fetchq: job \(jobID): \(progress.line(rate: rate))")
                lastLine = clock.now
            }
            if progress.completed {
                if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
                return progress
            }
            // A service that ignores `wait` answers at once: poll, but not in a tight loop.
            let took = clock.now - asked
            if took < pollInterval { try await Task.sleep(for: pollInterval - took) }
        }
    }
}

/// The end of `--wait` and `fetchq wait`: counts, the commonest failures, and the exit status.
enum Summary {
    static func print(_ progress: Progress, jobID: String, elapsed: Duration, api: APIClient) async throws -> Int32 {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        Console.error(
            "fetchq: job \(jobID) completed (followed for \(Progress.duration(seconds))): \(progress.total) tasks, "
                + "\(progress.succeeded) succeeded, \(progress.failed) failed, \(progress.canceled) canceled")
        if progress.failed > 0 {
            var reasons: [String: Int] = [:]
            try await ResultStream(api: api, path: "/v1/jobs/\(jobID)/results?state=failed").lines { line in
                let value = (try? JSONParser.parse(line)) ?? .null
                let reason =
                    value["status_code"]?.intValue.map { "HTTP \($0)" } ?? value["error"]?.stringValue ?? "unknown"
                reasons[reason, default: 0] += 1
            }
            let top = reasons.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(5)
            Console.error("fetchq: top failures: " + top.map { "\($0.key) × \($0.value)" }.joined(separator: ", "))
        }
        return progress.failed + progress.canceled == 0 ? ClientExit.success : ClientExit.tasksFailed
    }
}

/// The lines of an NDJSON answer, read as they arrive.
struct ResultStream {
    let api: APIClient
    let path: String

    func lines(_ each: ([UInt8]) throws -> Void) async throws {
        let response = try await api.request(.GET, path, timeout: .hours(24))
        guard response.status.code == 200 else {
            let body = try await response.body.collect(upTo: 1 << 20)
            throw APIClient.failure(
                APIClient.Answer(
                    status: Int(response.status.code), headers: response.headers, body: Array(buffer: body)),
                .GET, path)
        }
        var pending: [UInt8] = []
        for try await buffer in response.body {
            pending += buffer.readableBytesView
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                try each(Array(pending[start..<newline]))
                start = newline + 1
            }
            pending.removeFirst(start)
        }
        if !pending.isEmpty { try each(pending) }
    }
}
