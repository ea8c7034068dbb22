import Foundation

/// An HTTP request that a task performs.
public struct FetchRequest: Sendable, Equatable {
    public var url: String
    public var method: String
    /// Header lines in the order given.
    public var headers: [HeaderField]
    public var body: [UInt8]?

    public init(url: String, method: String = "GET", headers: [HeaderField] = [], body: [UInt8]? = nil) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
    }
}
