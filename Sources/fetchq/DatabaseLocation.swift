import ArgumentParser
import StorePostgres

/// Where `fetchq serve` keeps its queue: a SQLite file (one node), or a PostgreSQL database that
/// several nodes share.
enum DatabaseLocation {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// `--database` when given (a `postgres://` URL or a file path), else the `--db` file. A URL
    /// fetchq cannot use is refused here, naming what is wrong (never the password).
    init(database: String, db: String) throws {
        guard PostgresLocation.isPostgres(database) else {
            self = .sqlite(path: database.isEmpty ? db : database)
            return
        }
        do {
            self = .postgres(try PostgresLocation(url: database))
        } catch {
            throw ValidationError("--database: \(error.description)")
        }
    }

    /// For logs: the file, or the URL without its password.
    var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let location): location.description
        }
    }
}
