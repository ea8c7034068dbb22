/// What an application plugs into `HTTPServer`: its answers to requests, and its rendering of the
/// few answers the server has to give by itself.
public protocol HTTPResponder: Sendable {
    /// Turns a request into a reply. Called on one of libmicrohttpd's threads: must not block.
    /// A thrown error is answered with `response(for: .handlerFailed(error, request))`.
    func reply(to request: HTTPRequest) throws -> Reply

    /// The response for a failure the server meets itself.
    func response(for failure: HTTPServerFailure) -> HTTPResponse

    /// What the server's own metrics are named after: `<prefix>_connections_open` and so on.
    var metricsPrefix: String { get }
}
