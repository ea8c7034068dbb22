/// How a handler answers: at once, on the server's own thread (for quick work such as a read from
/// SQLite), or later, from Swift concurrency while the connection is suspended (for anything that
/// waits: a durable write, a call into the engine). The work of a `.later` reply runs in the task
/// group of `HTTPServer.run()`; what it throws goes to `HTTPResponder.response(for:)`.
public enum Reply: Sendable {
    case now(HTTPResponse)
    case later(@Sendable () async throws -> HTTPResponse)
}
