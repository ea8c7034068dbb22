import Foundation
import HTTPServer
import JSON
import NIOConcurrencyHelpers
import Store

// `GET /v1/jobs/{id}/results`: every task of a job as one NDJSON line, streamed page by page.

extension FetchqAPI {
    /// Lines read from the store per page; fewer with bodies, which may be large.
    static let resultsPageSize = 500
    static let resultsPageSizeWithBodies = 50

    func results(of id: String, _ query: [String: String]) async throws -> HTTPResponse {
        let state: TaskState? = try stateFilter(query)
        var bodies = false
        if let text = query["bodies"] {
            guard text == "base64" else { throw Problem.invalidField("bodies", "`bodies` can only be `base64`.") }
            bodies = true
        }
        guard let jobID = JobID(id), let jobSeq = try await store.jobSeq(jobID) else {
            throw Problem.notFound("Job \(id)")
        }
        // Tasks appended to an open job after this point are not part of this export.
        let last = try await store.lastTaskSeq(ofJob: jobSeq)
        let (store, filter, withBodies) = (self.store, state, bodies)
        let limit = bodies ? Self.resultsPageSizeWithBodies : Self.resultsPageSize
        // The last row sent; nil once the last page has been sent.
        let cursor = NIOLockedValueBox<Int64?>(0)
        let stream = HTTPBodyStream {
            guard let after = cursor.withLockedValue({ $0 }) else { return nil }
            let page = try await store.results(
                ofJob: jobSeq, state: filter, after: after, last: last, limit: limit, bodies: withBodies)
            cursor.withLockedValue { $0 = page.count < limit ? nil : page.last?.seq }
            guard !page.isEmpty else { return nil }
            var text: [UInt8] = []
            for line in page {
                text += Self.resultLine(line, bodies: withBodies).serialized
                text.append(UInt8(ascii: "\n"))
            }
            return text
        }
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/x-ndjson")], stream: stream)
    }

    static func resultLine(_ line: ResultLine, bodies: Bool) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(line.id.rawValue)), ("url", .string(line.url)), ("method", .string(line.method)),
            ("state", .string(line.state.rawValue)), ("attempts", .integer(line.attempts)),
            ("status_code", .optional(line.statusCode)), ("error", .optional(line.error)),
            ("body_bytes", .optional(line.bodyBytes)), ("body_truncated", .bool(line.bodyTruncated)),
            ("content_encoding", .optional(line.contentEncoding)), ("decoded_from", .optional(line.decodedFrom)),
            ("duration_ms", .optional(line.durationMillis)),
            ("finished_at", Representation.timestamp(line.finishedAt)),
        ]
        if bodies { members.append(("body_base64", .optional(line.body.map { Data($0).base64EncodedString() }))) }
        return .object(members)
    }
}
