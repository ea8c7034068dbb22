import API
import HTTPServer

/// Runs `server` for as long as `body` runs, then shuts it down and returns once `run()` has.
public func withRunning<Result>(
    _ server: HTTPServer, _ body: () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        let result: Result
        do {
            result = try await body()
        } catch {
            server.shutdown()
            try? await group.waitForAll()
            throw error
        }
        server.shutdown()
        try await group.waitForAll()
        return result
    }
}
