/// One row of a query's answer, its columns read by position: what both storage engines' rows
/// offer, so that a record is decoded from its columns once (`JobRow`, `TaskRow`, `DeliveryRow`).
package protocol RowReader {
    func isNull(_ column: Int) -> Bool
    func int(_ column: Int) throws -> Int
    func int64(_ column: Int) throws -> Int64
    func string(_ column: Int) throws -> String
    func bool(_ column: Int) throws -> Bool
    func bytes(_ column: Int) throws -> [UInt8]?
}

extension RowReader {
    package func optionalInt(_ column: Int) throws -> Int? { isNull(column) ? nil : try int(column) }
    package func optionalInt64(_ column: Int) throws -> Int64? { isNull(column) ? nil : try int64(column) }
    package func optionalString(_ column: Int) throws -> String? { isNull(column) ? nil : try string(column) }
}
