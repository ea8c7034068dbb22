import HTTPServer

/// The web dashboard's three files (`dashboard/` in the repository, embedded at build time the way
/// `openapi.yaml` is) and the headers they are served with.
///
/// The page holds no data of its own: its script asks `/v1` for everything, with the bearer token
/// when one is set, so the files are served without one. The Content-Security-Policy allows only
/// this origin's script, style and API (no inline script, nothing fetched from elsewhere), and the
/// page may not be framed.
enum DashboardFile: Equatable {
    case page
    case style
    case script

    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    var contentType: String {
        switch self {
        case .page: "text/html; charset=utf-8"
        case .style: "text/css; charset=utf-8"
        case .script: "text/javascript; charset=utf-8"
        }
    }

    var text: String {
        switch self {
        case .page: DashboardPage.text
        case .style: DashboardStyle.text
        case .script: DashboardScript.text
        }
    }

    var response: HTTPResponse {
        HTTPResponse(
            status: 200,
            headers: [
                ("Content-Type", contentType), ("Content-Security-Policy", Self.contentSecurityPolicy),
                ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"),
                ("Cache-Control", "no-cache"),
            ], body: Array(text.utf8))
    }
}
