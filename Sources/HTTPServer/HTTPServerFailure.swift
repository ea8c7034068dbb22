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
