import HTTPServer

/// One entry of a `RouteTable`: the methods it answers, its path template (`/v1/jobs/{id}`),
/// whether it needs the bearer token, and its handler.
struct Route<Context: Sendable>: Sendable {
    /// Who may call the route.
    enum Access: Sendable {
        /// Anyone: health, the contract, the dashboard's files.
        case open
        /// A caller with one of the configured bearer tokens (when tokens are set).
        case token
    }

    /// Answers a request that matched the route; called on the server's thread, must not block.
    typealias Handler = @Sendable (Context, RoutedRequest) throws -> Reply

    let methods: [String]
    let template: String
    let access: Access
    let handler: Handler

    /// `GET`, and `HEAD` with the same handler (the server sends a HEAD answer without its body).
    static func get(_ template: String, _ access: Access = .token, _ handler: @escaping Handler) -> Route {
        Route(methods: ["GET", "HEAD"], template: template, access: access, handler: handler)
    }

    static func post(_ template: String, _ access: Access = .token, _ handler: @escaping Handler) -> Route {
        Route(methods: ["POST"], template: template, access: access, handler: handler)
    }

    static func delete(_ template: String, _ access: Access = .token, _ handler: @escaping Handler) -> Route {
        Route(methods: ["DELETE"], template: template, access: access, handler: handler)
    }
}
