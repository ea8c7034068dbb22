import HTTPServer

/// Plugs the API into the HTTP server: fetchq's routes, and its problem+json for the answers the
/// server gives by itself.
extension FetchqAPI: HTTPResponder {
    public func reply(to request: HTTPRequest) -> Reply { handle(request) }

    /// `fetchq_http_connections_open` and so on.
    public var metricsPrefix: String { "fetchq_http" }

    public func response(for failure: HTTPServerFailure) -> HTTPResponse {
        switch failure {
        case .requestTooLarge(let limit):
            Problem(
                status: 413, code: "request_too_large", title: "Request body too large",
                detail: "The request body is over the limit of \(limit) bytes.", field: nil
            ).response
        case .requestTimeout:
            Problem(
                status: 408, code: "request_timeout", title: "Request timeout",
                detail: "The request's headers, or its body, did not arrive in time; the connection is closed.",
                field: nil
            ).response
        case .shuttingDown:
            Problem.shuttingDown("The service stopped before this request finished; retry it.").response
        case .handlerFailed(let error, let request):
            errorResponse(error, for: request)
        }
    }
}
