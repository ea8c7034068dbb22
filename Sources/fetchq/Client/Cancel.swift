import ArgumentParser
import NIOHTTP1

/// `fetchq cancel JOB`: cancels every queued or running task of a job.
struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel a job's queued and running tasks (an open job is sealed too).",
        discussion: """
            Example:
              fetchq cancel 01JD9Z6Y8T3Q8W1V2X3Y4Z5A6B

            \(ClientExit.help)
            """)

    @OptionGroup var client: ClientOptions
    @Argument(help: "The job id.") var job: String
    @Flag(help: "Print the API's answer (JSON).") var json = false

    func run() async throws {
        try await Console.run {
            let answer = try await APIClient.with(client) { try await $0.expect(.POST, "/v1/jobs/\(job)/cancel") }
            print(
                json
                    ? String(decoding: answer.body, as: UTF8.self)
                    : "canceled \(answer.json["canceled"]?.intValue ?? 0) tasks")
        }
    }
}
