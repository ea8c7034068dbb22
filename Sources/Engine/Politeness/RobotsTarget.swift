/// The two parts of a task's URL that robots.txt needs, read without a full URL parse (the URL was
/// validated at submission): its origin (`scheme://authority`, where `/robots.txt` is) and the path
/// with its query, as sent on the wire.
struct RobotsTarget: Equatable {
    let origin: String
    let path: String

    init?(url: String) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        origin = String(url[..<authorityEnd])
        var rest = url[authorityEnd...]
        if let fragment = rest.firstIndex(of: "#") { rest = rest[..<fragment] }
        path = rest.isEmpty ? "/" : rest.hasPrefix("?") ? "/" + rest : String(rest)
    }

    /// Where the origin's robots.txt is.
    var robotsURL: String { origin + "/robots.txt" }
}
