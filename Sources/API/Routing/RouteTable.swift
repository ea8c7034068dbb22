/// The routes of an application, as data: matched against a request's path, it gives the route
/// for the method, or what a 404 or 405 needs; its (method, template) pairs are what the contract
/// test compares with `openapi.yaml`. Adding a route is adding one entry. (Hummingbird's `Router`
/// is the model.)
struct RouteTable<Context: Sendable>: Sendable, ExpressibleByArrayLiteral {
    /// The templates, in the order of their first route.
    let paths: [RoutePath<Context>]

    init(_ routes: [Route<Context>]) {
        var templates: [String] = []
        var byTemplate: [String: [Route<Context>]] = [:]
        for route in routes {
            if byTemplate[route.template] == nil { templates.append(route.template) }
            byTemplate[route.template, default: []].append(route)
        }
        paths = templates.map { RoutePath(template: $0, routes: byTemplate[$0] ?? []) }
    }

    init(arrayLiteral routes: Route<Context>...) { self.init(routes) }

    /// Every method and template the table answers, in declared order.
    var operations: [(method: String, template: String)] {
        paths.flatMap { path in path.allowed.map { (method: $0, template: path.template) } }
    }

    /// The path whose template `path` fits, with its parameters; nil when none does. Empty
    /// segments are skipped (`//v1/jobs/` is `/v1/jobs`).
    func match(_ path: String) -> RouteMatch<Context>? {
        let segments = path.split(separator: "/")
        for candidate in paths {
            if let values = candidate.match(segments) {
                return RouteMatch(path: candidate, values: values)
            }
        }
        return nil
    }
}
