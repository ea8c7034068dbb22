import HTTPServer

extension Route where Context == FetchqAPI {
    /// A `GET` (and `HEAD`) answered by a read of the store, from Swift concurrency (see
    /// `FetchqAPI.read`): what `work` throws is answered as the API answers errors.
    static func read(
        _ template: String, _ access: Access = .token,
        _ work: @escaping @Sendable (FetchqAPI, RoutedRequest) async throws -> HTTPResponse
    ) -> Route {
        .get(template, access) { api, call in api.read(call.request) { try await work(api, call) } }
    }
}
