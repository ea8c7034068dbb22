import HTTPServer

/// What a route's handler gets: the request, and the values of its template's `{name}` segments.
struct RoutedRequest: Sendable {
    let request: HTTPRequest
    let parameterNames: [String]
    let parameterValues: [Substring]

    var query: [String: String] { request.query }

    /// The value of the `{name}` segment; empty when the template has none of that name.
    subscript(_ name: String) -> String {
        guard let index = parameterNames.firstIndex(of: name), index < parameterValues.count else { return "" }
        return String(parameterValues[index])
    }
}
