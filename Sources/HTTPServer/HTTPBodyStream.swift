/// A body made piece by piece while it is sent (`Transfer-Encoding: chunked`), so a large answer
/// never sits in memory whole. `next` is called from Swift concurrency whenever the client can take
/// more, never for two pieces at once, while the connection waits suspended. It answers the next
/// bytes, or nil at the end; an error aborts the response (the client sees it cut short).
public struct HTTPBodyStream: Sendable {
    public let next: @Sendable () async throws -> [UInt8]?

    public init(next: @escaping @Sendable () async throws -> [UInt8]?) { self.next = next }
}
