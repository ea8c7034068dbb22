import Store

extension JobRow {
    /// The job with public id `id`, read on `db`.
    static func read(id: JobID, in db: Database) throws -> JobRecord? {
        try db.queryOne("\(select) WHERE id = ?", [.text(id.rawValue)]) { try read($0).record }
    }

    /// The job with row id `seq`, read on `db`.
    static func read(seq: Int64, in db: Database) throws -> JobRecord? {
        try db.queryOne("\(select) WHERE seq = ?", [.integer(seq)]) { try read($0).record }
    }
}
