import Foundation
import Spawn

/// Queries on a database file through the `sqlite3` command-line shell, so that a test reads the
/// file as a user would after the service has stopped, not through fetchq's own store code.
public struct SQLiteShell: Sendable {
    public let database: URL

    public init(database: URL) { self.database = database }

    /// The rows `sql` answers, each a list of its columns as text (NULL as the empty string).
    public func rows(_ sql: String) throws -> [[String]] {
        let completed = try ChildProcess.run(
            .init(
                executable: "sqlite3", arguments: ["-readonly", "-batch", "-separator", "\t", database.path, sql],
                standardOutput: .pipe, standardError: .pipe))
        guard completed.termination == .exited(0) else {
            throw ServiceProcessError("sqlite3 \(completed.termination) on `\(sql)`: \(completed.errorText)")
        }
        return completed.outputText.split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// The one value `sql` answers.
    public func value(_ sql: String) throws -> String { try rows(sql).first?.first ?? "" }

    /// The one integer `sql` answers (0 for none).
    public func integer(_ sql: String) throws -> Int { Int(try value(sql)) ?? 0 }
}
