import Foundation
import PostgresNIO

/// Where a PostgreSQL database is, from a `postgres://user:password@host:port/database` URL
/// (`postgresql://` too). TLS is not used yet: fetchq talks to PostgreSQL on a private network or
/// loopback (`?sslmode=` other than `disable` is refused rather than ignored).
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let user: String
    public let password: String?
    public let database: String

    /// Why a URL is not one fetchq can use.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Whether `text` names PostgreSQL (rather than a SQLite file path).
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(url text: String) throws(Invalid) {
        guard Self.isPostgres(text), let components = URLParts(text) else {
            throw Invalid(description: "expected postgres://user:password@host:port/database")
        }
        guard !components.host.isEmpty else { throw Invalid(description: "the URL names no host") }
        guard let user = components.user, !user.isEmpty else { throw Invalid(description: "the URL names no user") }
        guard !components.database.isEmpty else { throw Invalid(description: "the URL names no database") }
        if let mode = components.query["sslmode"], mode != "disable" {
            throw Invalid(description: "sslmode=\(mode) is not supported yet; use sslmode=disable")
        }
        host = components.host
        port = components.port ?? 5432
        self.user = user
        password = components.password
        database = components.database
    }

    /// The URL with its password left out, for logs and messages.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// A client configuration for this database.
    public var clientConfiguration: PostgresClient.Configuration {
        PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: .disable)
    }
}

/// The parts of a `scheme://user:password@host:port/path?query` URL, percent-decoded.
private struct URLParts {
    var user: String?
    var password: String?
    var host = ""
    var port: Int?
    var database = ""
    var query: [String: String] = [:]

    init?(_ text: String) {
        guard let schemeEnd = text.range(of: "://") else { return nil }
        var rest = Substring(text[schemeEnd.upperBound...])
        if let question = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: question)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0) }
                query[parts[0]] = parts.count == 2 ? parts[1] : ""
            }
            rest = rest[..<question]
        }
        if let slash = rest.firstIndex(of: "/") {
            guard let name = String(rest[rest.index(after: slash)...]).removingPercentEncoding else { return nil }
            database = name
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            user = String(parts[0]).removingPercentEncoding
            if parts.count == 2 { password = String(parts[1]).removingPercentEncoding }
        }
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65_535).contains(number) else { return nil }
            port = number
            rest = rest[..<colon]
        }
        host = String(rest).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
    }
}
