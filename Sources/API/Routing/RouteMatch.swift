/// A request's path matched to a `RoutePath`, with the values of its `{name}` segments.
struct RouteMatch<Context: Sendable>: Sendable {
    let path: RoutePath<Context>
    /// In the order of `path.parameterNames`.
    let values: [Substring]
}
