import NIOConcurrencyHelpers

/// What one request has gathered across calls of the access handler.
///
/// `@unchecked Sendable` is safe: libmicrohttpd calls the handler for one connection from one
/// thread at a time, so `body`, `tooLarge` and `dispatched` are only touched from there; the one
/// value written from elsewhere (`response`, by the task that answers a suspended request) sits
/// behind a lock.
final class RequestState: @unchecked Sendable {
    var body: [UInt8] = []
    var tooLarge = false
    var dispatched = false
    let response = NIOLockedValueBox<HTTPResponse?>(nil)
}
