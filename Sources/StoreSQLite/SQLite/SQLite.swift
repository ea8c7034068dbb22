import CSQLite
import Store

/// SQLite's "copy the value before returning" destructor, which Swift strings and buffers need
/// because their storage does not outlive the bind call.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A value bound to a statement parameter.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLValue {
    static func int(_ value: Int) -> SQLValue { .integer(Int64(value)) }
    static func optional(_ value: Int?) -> SQLValue { value.map { .integer(Int64($0)) } ?? .null }
    static func optional(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
}

/// Turns a SQLite result code into a `StoreError` carrying the message and the SQL, or returns.
func check(_ code: Int32, _ db: OpaquePointer?, sql: String? = nil) throws(StoreError) {
    guard code == SQLITE_OK || code == SQLITE_DONE || code == SQLITE_ROW else {
        throw StoreError.sqlite(code: code, message: errorMessage(db), sql: sql)
    }
}

func errorMessage(_ db: OpaquePointer?) -> String {
    guard let db, let cString = sqlite3_errmsg(db) else { return "unknown SQLite error" }
    return String(cString: cString)
}

extension StoreError {
    /// A failure SQLite reported: its extended result code, and whether it was a full disk
    /// (`SQLITE_FULL`, any extended code).
    static func sqlite(code: Int32, message: String, sql: String?) -> StoreError {
        StoreError(.sqlite, message, engineCode: code, sql: sql, storageFull: code & 0xff == SQLITE_FULL)
    }
}
