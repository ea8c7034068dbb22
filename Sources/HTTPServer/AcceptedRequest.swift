/// A request whose reply is `.later`: its connection is suspended until `work` has answered.
struct AcceptedRequest: Sendable {
    let key: ObjectIdentifier
    let request: HTTPRequest
    let work: @Sendable () async throws -> HTTPResponse
}
