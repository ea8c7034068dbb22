import ArgumentParser
import Foundation
import NIOHTTP1

/// `fetchq status JOB`: a job's state and counts.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a job's state and its counts per task state.",
        discussion: """
            Example:
              fetchq status 01JD9Z6Y8T3Q8W1V2X3Y4Z5A6B --json

            \(ClientExit.help)
            """)

    @OptionGroup var client: ClientOptions
    @Argument(help: "The job id.") var job: String
    @Flag(help: "Print the job as the API returns it (JSON).") var json = false

    func run() async throws {
        try await Console.run {
            let answer = try await APIClient.with(client) { try await $0.expect(.GET, "/v1/jobs/\(job)") }
            if json {
                print(String(decoding: answer.body, as: UTF8.self))
                return
            }
            let value = answer.json
            let progress = Progress(job: value)
            let state = (value["state"]?.stringValue ?? "?") + (progress.open ? " (open)" : "")
            print("\(job)  \(state)  \(progress.total) tasks: \(progress.counts)")
        }
    }
}
