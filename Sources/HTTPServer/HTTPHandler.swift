/// Turns a request into a reply. Called on one of libmicrohttpd's threads: must not block.
public typealias HTTPHandler = @Sendable (HTTPRequest) throws -> Reply
