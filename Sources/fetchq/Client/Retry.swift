import ArgumentParser
import JSON
import NIOHTTP1

/// `fetchq retry JOB --failed`: re-runs a job's failed tasks.
struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-run a job's failed tasks (and, with --canceled, its canceled ones).",
        discussion: """
            Example:
              fetchq retry 01JD9Z6Y8T3Q8W1V2X3Y4Z5A6B --failed && fetchq wait 01JD9Z6Y8T3Q8W1V2X3Y4Z5A6B

            \(ClientExit.help)
            """)

    @OptionGroup var client: ClientOptions
    @Argument(help: "The job id.") var job: String
    @Flag(help: "Re-run the failed tasks.") var failed = false
    @Flag(help: "Re-run the canceled tasks.") var canceled = false

    func validate() throws {
        guard failed || canceled else { throw ValidationError("say which tasks to re-run: --failed and/or --canceled") }
    }

    func run() async throws {
        try await Console.run {
            let states = (failed ? ["failed"] : []) + (canceled ? ["canceled"] : [])
            let retried = try await APIClient.with(client) { api in
                // The ids first: re-running a task moves it out of the listing being read.
                var ids: [String] = []
                for state in states {
                    try await ResultStream(api: api, path: "/v1/jobs/\(job)/results?state=\(state)").lines { line in
                        if let id = (try? JSONParser.parse(line))?["id"]?.stringValue { ids.append(id) }
                    }
                }
                for id in ids { _ = try await api.expect(.POST, "/v1/tasks/\(id)/retry") }
                return ids.count
            }
            print("re-queued \(retried) tasks")
        }
    }
}
