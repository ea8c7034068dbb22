/// One task as `GET /v1/jobs/{id}/results` shows it: the request, its state and the last outcome.
public struct ResultLine: Sendable {
    /// Position in the store, for the next page: not shown.
    public let seq: Int64
    public let id: TaskID
    public let url: String
    public let method: String
    public let state: TaskState
    public let attempts: Int
    public let statusCode: Int?
    public let error: String?
    public let bodyBytes: Int?
    public let bodyTruncated: Bool
    public let durationMillis: Int?
    public let finishedAt: Int64?
    /// The stored response body, when asked for and stored.
    public let body: [UInt8]?
    /// The response's `Content-Encoding` (`gzip`): the stored body is encoded so.
    public let contentEncoding: String?
    /// The `Content-Encoding` fetchq removed (`decode_content`): the stored body is decoded.
    public let decodedFrom: String?

    package init(
        seq: Int64, id: TaskID, url: String, method: String, state: TaskState, attempts: Int, statusCode: Int?,
        error: String?, bodyBytes: Int?, bodyTruncated: Bool, durationMillis: Int?, finishedAt: Int64?, body: [UInt8]?,
        contentEncoding: String? = nil, decodedFrom: String? = nil
    ) {
        self.decodedFrom = decodedFrom
        self.seq = seq
        self.id = id
        self.url = url
        self.method = method
        self.state = state
        self.attempts = attempts
        self.statusCode = statusCode
        self.error = error
        self.bodyBytes = bodyBytes
        self.bodyTruncated = bodyTruncated
        self.durationMillis = durationMillis
        self.finishedAt = finishedAt
        self.body = body
        self.contentEncoding = contentEncoding
    }
}
