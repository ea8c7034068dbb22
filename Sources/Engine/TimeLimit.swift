/// Runs `body`, throwing a `timeout` failure if it has not finished within `limit`.
func withTimeLimit<T: Sendable>(
    _ limit: Duration, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            let millis = limit.components.seconds * 1000 + limit.components.attoseconds / 1_000_000_000_000_000
            throw FetchFailure(.timeout, "timed out after \(millis) ms")
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw CancellationError() }
        return first
    }
}
