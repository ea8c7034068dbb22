import Store

/// SQLite's row read by the model's decoders (`JobRow`, `TaskRow`, `DeliveryRow`): a boolean is
/// an integer column, 1 for true.
extension Row: RowReader {
    func isNull(_ column: Int) -> Bool { isNull(Int32(column)) }
    func int(_ column: Int) -> Int { int(Int32(column)) }
    func int64(_ column: Int) -> Int64 { int64(Int32(column)) }
    func string(_ column: Int) -> String { string(Int32(column)) }
    func bool(_ column: Int) -> Bool { int(Int32(column)) == 1 }
    func bytes(_ column: Int) -> [UInt8]? { bytes(Int32(column)) }
}

extension Row {
    // Without a throw: SQLite's reads do not fail (the protocol's defaults would make every call `try`).
    func optionalInt(_ column: Int) -> Int? { optionalInt(Int32(column)) }
    func optionalInt64(_ column: Int) -> Int64? { isNull(column) ? nil : int64(column) }
    func optionalString(_ column: Int) -> String? { optionalString(Int32(column)) }
}
