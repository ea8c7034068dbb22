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
        /// A row held a value the code does not know (a state, an event type).
        case invalidRow = "invalid_row"
    }

    public let code: Code
    /// The database's own result code (SQLite's extended result code), when it gave one.
    public let engineCode: Int32?
    public let message: String
    /// The SQL text that failed, when there is one.
    public let sql: String?
    /// True when the database could not write for lack of disk space.
    public let isStorageFull: Bool

    public init(
        _ code: Code, _ message: String, engineCode: Int32? = nil, sql: String? = nil, storageFull: Bool = false
    ) {
        self.code = code
        self.message = message
        self.engineCode = engineCode
        self.sql = sql
        self.isStorageFull = storageFull
    }

    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let engineCode { text += " (\(code == .sqlite ? "SQLite code" : "code") \(engineCode))" }
        if let sql { text += " in `\(sql)`" }
        return text
    }
}
