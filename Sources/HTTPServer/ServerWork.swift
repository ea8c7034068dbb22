/// Work the daemon hands to `HTTPServer.run()`, each run as a child task of its task group, so that
/// shutdown waits for all of it.
enum ServerWork: Sendable {
    /// A suspended request whose `.later` reply is to be computed and sent.
    case answer(AcceptedRequest)
    /// The next piece of a streamed body, produced then handed back to its suspended connection.
    case produce(@Sendable () async -> Void)
}
