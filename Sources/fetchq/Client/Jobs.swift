import ArgumentParser
import JSON
import NIOHTTP1

/// `fetchq jobs`: the newest jobs, a page at a time.
struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List jobs, newest first.",
        discussion: """
            Example:
              fetchq jobs --limit 10 --state pending

            \(ClientExit.help)
            """)

    @OptionGroup var client: ClientOptions
    @Option(help: "Jobs per page (1 to 1000).") var limit = 20
    @Option(help: "Only jobs in this state: pending or completed.") var state: String?
    @Option(help: "The next_cursor of an earlier page.") var cursor: String?
    @Flag(help: "Print the API's answer (JSON).") var json = false

    func run() async throws {
        try await Console.run {
            var query = "limit=\(limit)"
            if let state { query += "&state=\(state)" }
            if let cursor { query += "&cursor=\(cursor)" }
            let answer = try await APIClient.with(client) { try await $0.expect(.GET, "/v1/jobs?\(query)") }
            if json {
                print(String(decoding: answer.body, as: UTF8.self))
                return
            }
            for job in answer.json["jobs"]?.arrayValue ?? [] {
                let progress = Progress(job: job)
                print(
                    "\(job["id"]?.stringValue ?? "?")  \(job["state"]?.stringValue ?? "?")  "
                        + "\(job["created_at"]?.stringValue ?? "")  \(progress.total) tasks: \(progress.counts)")
            }
            if let next = answer.json["next_cursor"]?.stringValue { Console.error("next page: --cursor \(next)") }
        }
    }
}
