import NIOCore
import PostgresNIO
import Store

/// Reads the columns of one row by position, for the model's decoders (`RowReader`).
struct PostgresColumns: RowReader {
    private let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) { self.row = row.makeRandomAccess() }

    func isNull(_ index: Int) -> Bool { row[index].bytes == nil }
    func int64(_ index: Int) throws -> Int64 { try row[index].decode(Int64.self) }
    func int(_ index: Int) throws -> Int { try row[index].decode(Int.self) }
    func string(_ index: Int) throws -> String { try row[index].decode(String.self) }
    func bool(_ index: Int) throws -> Bool { try row[index].decode(Bool.self) }
    func bytes(_ index: Int) throws -> [UInt8]? {
        guard let buffer = row[index].bytes else { return nil }
        return Array(buffer.readableBytesView)
    }
}

extension PostgresRowSequence {
    /// Every row, read with `read`.
    func map<T>(_ read: (PostgresColumns) throws -> T) async throws -> [T] {
        var values: [T] = []
        for try await row in self { values.append(try read(PostgresColumns(row))) }
        return values
    }

    /// The first row read with `read`, or nil.
    func first<T>(_ read: (PostgresColumns) throws -> T) async throws -> T? {
        for try await row in self { return try read(PostgresColumns(row)) }
        return nil
    }

    /// How many rows there are (for `UPDATE … RETURNING 1`, the rows changed).
    func count() async throws -> Int {
        var count = 0
        for try await _ in self { count += 1 }
        return count
    }
}

/// A body for a `bytea` parameter (an `[UInt8]` would be sent as an array of small integers).
func bytea(_ bytes: [UInt8]?) -> ByteBuffer? { bytes.map { ByteBuffer(bytes: $0) } }
