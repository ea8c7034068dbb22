import CSQLite

/// An error from the store, with a stable code that callers switch on.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; stable across releases.
    public enum Code: String, Sendable {
        case notFound = "not_found"
        case conflict
        case sqlite
        case migration
        case invalidCursor = "invalid_cursor"
        /// The database cannot be reached (PostgreSQL down, or the connection lost mid-statement).
        case unavailable
        /// PostgreSQL reported an error.
        case postgres
    }

    public let code: Code
    /// SQLite's extended result code, when SQLite reported the failure.
    public let sqliteCode: Int32?
    public let message: String
    /// The SQL text that failed, when there is one.
    public let sql: String?

    public init(_ code: Code, _ message: String, sqliteCode: Int32? = nil, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sqliteCode = sqliteCode
        self.sql = sql
    }

    static func sqlite(code: Int32, message: String, sql: String?) -> StoreError {
        StoreError(.sqlite, message, sqliteCode: code, sql: sql)
    }

    /// True when SQLite could not write for lack of space (`SQLITE_FULL`, any extended code).
    public var isStorageFull: Bool { sqliteCode.map { $0 & 0xff == SQLITE_FULL } ?? false }

    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let sqliteCode { text += " (SQLite code \(sqliteCode))" }
        if let sql { text += " in `\(sql)`" }
        return text
    }
}
