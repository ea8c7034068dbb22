/// What an application plugs into `HTTPServer`: its answers to requests, and its rendering of the
/// few answers the server has to give by itself.
public protocol HTTPResponder: Sendable {
    /// Turns a request into a reply. Called on one of libmicrohttpd's threads: must not block.
    /// A thrown error is answered with `response(for: .handlerFailed(error, request))`.
    func reply(to request: HTTPRequest) throws -> Reply

    /// The response for a failure the server meets itself.
    func response(for failure: HTTPServerFailure) -> HTTPResponse
}

/// A request the server answers without (or instead of) the application's reply.
public enum HTTPServerFailure: Sendable {
    /// The body is over `HTTPServerConfiguration.maxRequestBytes` (the limit); it was not kept.
    case requestTooLarge(limit: Int)
    /// The request's head, or its body, did not arrive in time (`headerTimeoutSeconds`,
    /// `minBodyRate`); the connection is closed after this answer, written as it is cut.
    case requestTimeout
    /// The server stopped before the reply was ready (shutdown's grace period ran out).
    case shuttingDown
    /// `reply(to:)`, or the work of a `.later` reply, threw.
    case handlerFailed(any Error, HTTPRequest)
}

extension HTTPResponder {
    /// Plain-text answers, for applications without an error format of their own.
    public func response(for failure: HTTPServerFailure) -> HTTPResponse {
        let (status, text) =
            switch failure {
            case .requestTooLarge(let limit): (413, "The request body is over the limit of \(limit) bytes.")
            case .requestTimeout: (408, "The request did not arrive in time.")
            case .shuttingDown: (503, "The server stopped before this request finished; retry it.")
            case .handlerFailed: (500, "The server could not complete the request.")
            }
        return HTTPResponse(status: status, headers: [("Content-Type", "text/plain")], body: Array((text + "\n").utf8))
    }
}

/// A responder made of a closure, with the plain-text failure answers.
struct HandlerResponder: HTTPResponder {
    let handler: HTTPHandler

    func reply(to request: HTTPRequest) throws -> Reply { try handler(request) }
}
