import Crypto
import HTTPServer
import JSON
import Store

/// What `POST /v1/jobs` and `POST /v1/jobs/{id}/tasks` check before they parse a body, and the
/// idempotency bookkeeping both share.
extension FetchqAPI {
    /// Refuses a write while shutting down or without a JSON body.
    func checkJSONWrite(_ request: HTTPRequest) throws(Problem) {
        guard accepting() else { throw Problem.shuttingDown() }
        let contentType = request.headers["content-type"]
        guard let contentType, contentType.lowercased().hasPrefix("application/json") else {
            throw Problem.unsupportedMediaType(contentType)
        }
    }

    /// The request's `Idempotency-Key`, checked (1 to 255 characters), if it has one.
    func idempotencyKey(_ request: HTTPRequest) throws(Problem) -> String? {
        let key = request.headers["idempotency-key"]
        if let key, key.isEmpty || key.utf8.count > 255 {
            throw Problem.invalidField("Idempotency-Key", "`Idempotency-Key` must be 1 to 255 characters.")
        }
        return key
    }

    /// The store's record for `key`: the body's hash, and how a 201 answer is kept for replays.
    func idempotency(
        _ key: String?, for request: HTTPRequest, render: @escaping @Sendable (SubmittedJob) -> JSONValue
    ) -> Idempotency? {
        key.map { key in
            Idempotency(
                key: key, requestHash: SHA256.hash(data: request.body).map { String(format: "%02x", $0) }.joined(),
                status: 201, render: { render($0).serialized })
        }
    }

    /// Marks `key` as being stored; a concurrent request with the same key gets 409.
    func claim(_ key: String?) throws(Problem) {
        guard let key, !keysInProgress.claim(key) else { return }
        throw Problem(
            status: 409, code: "idempotency_key_in_use", title: "Request in progress",
            detail: "A request with this Idempotency-Key is being processed; retry later.",
            field: "Idempotency-Key")
    }
}
