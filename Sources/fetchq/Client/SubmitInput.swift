import Foundation
import JSON

/// The input of `fetchq submit`: its tasks, and the job fields a whole job document sets.
///
/// Three shapes are read: one URL per line, one JSON task object per line (both may mix, with blank
/// lines and `#` comments skipped), or one whole job document (`{"tasks": [...], ...}`).
struct SubmitInput {
    var tasks: [JSONValue]
    var jobFields: [(String, JSONValue)]

    /// At most this many bad lines are listed.
    static let reportedProblems = 20

    static func parse(_ bytes: [UInt8]) throws -> SubmitInput {
        if bytes.first(where: { !Self.isSpace($0) }) == UInt8(ascii: "{"),
            let document = try? JSONParser.parse(bytes), let tasks = document["tasks"]
        {
            guard case .array(let items) = tasks, case .object(let members) = document else {
                throw ClientFailure("the job document's `tasks` must be an array")
            }
            return SubmitInput(tasks: items, jobFields: members.filter { $0.0 != "tasks" })
        }
        var tasks: [JSONValue] = []
        var problems: [String] = []
        var lineNumber = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty || text.hasPrefix("#") { continue }
            switch Self.task(text) {
            case .success(let task): tasks.append(task)
            case .failure(let problem): problems.append("line \(lineNumber): \(problem.description)")
            }
        }
        guard problems.isEmpty else {
            var report = problems.prefix(reportedProblems).joined(separator: "\n")
            if problems.count > reportedProblems { report += "\n… and \(problems.count - reportedProblems) more" }
            throw ClientFailure("\(problems.count) bad input line(s); nothing was submitted:\n\(report)")
        }
        guard !tasks.isEmpty else { throw ClientFailure("the input holds no tasks; nothing was submitted") }
        return SubmitInput(tasks: tasks, jobFields: [])
    }

    /// One line: a JSON task object, or a URL.
    private static func task(_ text: String) -> Result<JSONValue, ClientFailure> {
        if text.hasPrefix("{") {
            guard let value = try? JSONParser.parse(Array(text.utf8)) else {
                return .failure(ClientFailure("not valid JSON"))
            }
            guard case .object = value, value["url"]?.stringValue != nil else {
                return .failure(ClientFailure("a JSON task must be an object with a string `url`"))
            }
            return .success(value)
        }
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { return .failure(ClientFailure("not an http(s) URL or a JSON task: \(text.prefix(80))")) }
        return .success(.object([("url", .string(text))]))
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\t")
            || byte == UInt8(ascii: "\r")
    }
}
