import Engine
import Foundation
import JSON
import Logging
import Store

extension FetchqAPI {
    func redeliver(_ id: String) -> Reply {
        let (store, logger) = (self.store, self.logger)
        return .later {
            do {
                guard let deliveryID = DeliveryID(id),
                    let delivery = try await store.redeliver(deliveryID, now: WallClock.nowMillis())
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
