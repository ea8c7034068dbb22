extension HTTPResponder {
    /// `http_connections_open` and so on.
    public var metricsPrefix: String { "http" }

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
