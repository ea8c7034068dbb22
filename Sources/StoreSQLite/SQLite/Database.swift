import CSQLite
import Store

/// One SQLite connection with a cache of prepared statements keyed by SQL text.
///
/// Not `Sendable`: a connection is used by one owner at a time (`WriteConnection`, `ReaderPool`).
final class Database {
    private let handle: OpaquePointer
    private var statements: [String: Statement] = [:]
    let path: String

    enum Mode { case readWrite, readOnly }

    init(path: String, mode: Mode) throws(StoreError) {
        var connection: OpaquePointer?
        let flags =
            (mode == .readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &connection, flags, nil)
        guard let connection else {
            throw StoreError.sqlite(code: code, message: "cannot open \(path)", sql: nil)
        }
        guard code == SQLITE_OK else {
            let message = errorMessage(connection)
            sqlite3_close_v2(connection)
            throw StoreError.sqlite(code: code, message: "\(message) (\(path))", sql: nil)
        }
        self.handle = connection
        self.path = path
        sqlite3_extended_result_codes(connection, 1)
        sqlite3_busy_timeout(connection, 5_000)
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows (pragmas, DDL, transaction control).
    func execute(_ sql: String) throws(StoreError) {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        if code != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? errorMessage(handle)
            sqlite3_free(message)
            throw StoreError.sqlite(code: code, message: text, sql: sql)
        }
    }

    /// A cached prepared statement for `sql`, bound to `values`.
    func prepare(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) -> Statement {
        let statement: Statement
        if let cached = statements[sql] {
            statement = cached
        } else {
            statement = try Statement(db: handle, sql: sql, persistent: true)
            statements[sql] = statement
        }
        try statement.bind(values)
        return statement
    }

    /// Rows changed (inserted, updated, deleted, by triggers too) since the connection opened.
    var totalChanges: Int64 { Int64(sqlite3_total_changes64(handle)) }

    /// Runs a statement that returns no rows; answers how many rows it changed.
    @discardableResult
    func run(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) -> Int {
        let statement = try prepare(sql, values)
        while try statement.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// Maps every row of a query.
    func query<T>(_ sql: String, _ values: [SQLValue] = [], _ map: (Row) throws -> T) throws -> [T] {
        let statement = try prepare(sql, values)
        defer { statement.reset() }
        var rows: [T] = []
        while try statement.step() { rows.append(try map(statement.row)) }
        return rows
    }

    /// The first row of a query, if any.
    func queryOne<T>(_ sql: String, _ values: [SQLValue] = [], _ map: (Row) throws -> T) throws -> T? {
        let statement = try prepare(sql, values)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return try map(statement.row)
    }

    /// True outside a transaction (SQLite may end one by itself, rolling it back on a full disk).
    var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }

    /// How a commit reaches the disk.
    enum Durability {
        /// The write-ahead log is synced before the commit returns (`synchronous = FULL`): what a
        /// 2xx promises.
        case synced
        /// The commit is written to the log but not synced (`synchronous = NORMAL`): it survives a
        /// crash of the process, and a power loss may roll back the last ones. Only for writes that
        /// are safe to lose that way (the engine's attempt results: the task then runs again).
        case written
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if it throws.
    func transaction<T>(_ durability: Durability = .synced, _ body: () throws -> T) throws -> T {
        if durability == .written { try execute("PRAGMA synchronous = NORMAL") }
        defer { if durability == .written { try? execute("PRAGMA synchronous = FULL") } }
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}
