/// One path template of a `RouteTable` with every route declared on it, in their order.
struct RoutePath<Context: Sendable>: Sendable {
    /// A segment of a template: a literal, or a `{name}` that matches any one segment.
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    let template: String
    let segments: [Segment]
    let routes: [Route<Context>]
    /// The methods the path answers, for a 405's `Allow` header.
    let allowed: [String]
    /// Asked before the method is looked at, so a 405 tells nothing to a caller without the token.
    let needsToken: Bool
    /// The names of the `{name}` segments, in order.
    let parameterNames: [String]

    init(template: String, routes: [Route<Context>]) {
        self.template = template
        self.segments = template.split(separator: "/").map { segment in
            segment.first == "{" && segment.last == "}"
                ? .parameter(String(segment.dropFirst().dropLast())) : .literal(String(segment))
        }
        self.routes = routes
        self.allowed = routes.flatMap(\.methods)
        self.needsToken = routes.contains { $0.access == .token }
        self.parameterNames = segments.compactMap { segment in
            guard case .parameter(let name) = segment else { return nil }
            return name
        }
    }

    /// The route answering `method` on this path, if any.
    func route(for method: String) -> Route<Context>? {
        routes.first { $0.methods.contains(method) }
    }

    /// The values of the parameters when `path` (split into segments) has this template's shape.
    func match(_ path: [Substring]) -> [Substring]? {
        guard path.count == segments.count else { return nil }
        var values: [Substring] = []
        for (segment, given) in zip(segments, path) {
            switch segment {
            case .literal(let literal): guard given == literal else { return nil }
            case .parameter: values.append(given)
            }
        }
        return values
    }
}
