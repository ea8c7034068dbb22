import Store

/// An `INSERT` of many rows per statement. One statement per row spent much of the writer's time
/// running and resetting statements rather than storing rows (seen in profiles of submissions and
/// of recording results).
///
/// Rows go in chunks of 64, 32, 16, 8, 4, 2 or 1, so at most seven statements per table are ever
/// prepared and cached, whatever the row counts, and any count up to 127 takes at most seven.
struct MultiRowInsert: Sendable {
    static let chunkSizes = [64, 32, 16, 8, 4, 2, 1]

    let columns: Int
    private let statements: [Int: String]

    /// `head` is the statement up to `VALUES`, e.g. `INSERT INTO t (a, b)`.
    init(_ head: String, columns: Int) {
        self.columns = columns
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        statements = Dictionary(
            uniqueKeysWithValues: Self.chunkSizes.map { size in
                (size, head + " VALUES " + Array(repeating: row, count: size).joined(separator: ", "))
            })
    }

    /// Inserts `rows` rows whose values, `columns` per row, `values(row, &buffer)` appends.
    func run(
        rows: Int, in db: Database, values: (Int, inout [SQLValue]) throws -> Void
    ) throws {
        var row = 0
        var buffer: [SQLValue] = []
        buffer.reserveCapacity(columns * min(rows, Self.chunkSizes[0]))
        while row < rows {
            let size = Self.chunkSizes.first { $0 <= rows - row } ?? 1
            buffer.removeAll(keepingCapacity: true)
            for index in row..<(row + size) { try values(index, &buffer) }
            guard let sql = statements[size], buffer.count == columns * size else {
                throw StoreError(.sqlite, "a multi-row insert got \(buffer.count) values for \(size) rows")
            }
            try db.run(sql, buffer)
            row += size
        }
    }
}
