import Engine
import Foundation
import HTTPServer
import JSON
import Logging
import Store

extension FetchqAPI {
    /// `GET /v1/jobs/{id}/deliveries`: a page of the job's webhook deliveries.
    func deliveries(of id: String, _ request: HTTPRequest) throws -> Reply {
        let limit = try pageLimit(request.query)
        let store = self.store
        return read(request) {
            guard let jobID = JobID(id),
                let page = try await store.deliveries(of: jobID, cursor: request.query["cursor"], limit: limit)
            else { throw Problem.notFound("Job \(id)") }
            return .json(
                200,
                .object([
                    ("deliveries", .array(page.deliveries.map(Representation.delivery))),
                    ("next_cursor", .optional(page.nextCursor)),
                ]))
        }
    }

    func redeliver(_ id: String) -> Reply {
        let (store, logger) = (self.store, self.logger)
        return .later {
            do {
                guard let deliveryID = DeliveryID(id),
                    let delivery = try await store.redeliver(deliveryID, now: clock.wallMillis())
                else {
                    return Problem.notFound("Delivery \(id)").response
                }
                return .json(200, Representation.delivery(delivery))
            } catch {
                return Problem.writeFailed(error, logger: logger, "redeliver failed").response
            }
        }
    }
}
