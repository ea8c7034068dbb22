import ArgumentParser
import NIOHTTP1

/// `fetchq wait JOB`: follows a job until it completes, then summarizes it.
struct Wait: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow a job until it completes; print a summary.",
        discussion: """
            On a terminal, a progress bar (counts per state, tasks/s, ETA); otherwise one plain line every \
            few seconds on stderr. Long-polls the service when it supports `?wait=`, else polls.

            Example:
              fetchq wait 01JD9Z6Y8T3Q8W1V2X3Y4Z5A6B && fetchq results 01JD9Z6Y8T3Q8W1V2X3Y4Z5A6B

            \(ClientExit.help)
            """)

    @OptionGroup var client: ClientOptions
    @Argument(help: "The job id.") var job: String

    func run() async throws {
        try await Console.run {
            let status = try await APIClient.with(client) { api in
                try await JobFollower(api: api, jobID: job).followAndSummarize()
            }
            throw ExitCode(status)
        }
    }
}
