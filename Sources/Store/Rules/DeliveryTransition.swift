/// The columns of a webhook delivery that the end of an attempt writes, decided once for both
/// engines: its state, when it is next due, and when it was delivered.
package struct DeliveryTransition: Sendable, Equatable {
    package let state: DeliveryState
    package let nextAttemptAt: Int64
    package let deliveredAt: Int64?

    package init(_ result: DeliveryResult) {
        switch result.next {
        case .delivered: (state, nextAttemptAt, deliveredAt) = (.delivered, result.at, result.at)
        case .retry(let at): (state, nextAttemptAt, deliveredAt) = (.pending, at, nil)
        case .failed, .gone: (state, nextAttemptAt, deliveredAt) = (.failed, result.at, nil)
        }
    }
}
