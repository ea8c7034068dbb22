import Foundation
import JSON

/// A job's progress as the client shows it: counts per state, the rate and the time left.
struct Progress: Equatable {
    var total: Int
    var queued: Int
    var running: Int
    var succeeded: Int
    var failed: Int
    var canceled: Int
    var open: Bool
    var completed: Bool

    init(job: JSONValue) {
        let counts = job["counts"] ?? .null
        total = job["task_count"]?.intValue ?? 0
        queued = counts["queued"]?.intValue ?? 0
        running = counts["running"]?.intValue ?? 0
        succeeded = counts["succeeded"]?.intValue ?? 0
        failed = counts["failed"]?.intValue ?? 0
        canceled = counts["canceled"]?.intValue ?? 0
        open = job["open"] == .bool(true)
        completed = job["state"]?.stringValue == "completed"
    }

    var finished: Int { succeeded + failed + canceled }

    var counts: String {
        "\(succeeded) succeeded, \(failed) failed, \(canceled) canceled, \(running) running, \(queued) queued"
    }

    /// `[#####-----]  2500/5000  50%  …  120/s  ETA 21s`, for a terminal.
    func bar(rate: Double, width: Int = 24) -> String {
        let fraction = total == 0 ? 1 : Double(finished) / Double(total)
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        return "[\(bar)] \(finished)/\(total) \(Int(fraction * 100))%  \(counts)  \(Self.rate(rate))  ETA \(eta(rate))"
    }

    /// One plain line, for a log.
    func line(rate: Double) -> String {
        "\(finished)/\(total) finished: \(counts); \(Self.rate(rate)), ETA \(eta(rate))"
    }

    func eta(_ rate: Double) -> String {
        let left = total - finished
        if left == 0 { return "0s" }
        guard rate > 0 else { return "?" }
        return Self.duration(Double(left) / rate)
    }

    static func rate(_ rate: Double) -> String { String(format: "%.0f tasks/s", rate) }

    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.0fs", seconds.rounded(.up)) }
        let whole = Int(seconds.rounded(.up))
        return whole < 3600 ? "\(whole / 60)m\(whole % 60)s" : "\(whole / 3600)h\(whole / 60 % 60)m"
    }
}
