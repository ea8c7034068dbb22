import Foundation

/// The process's `FETCHQ_*` variables. A variable set to the empty string counts as not set.
struct Environment: Sendable {
    let values: [String: String]

    init(_ values: [String: String] = ProcessInfo.processInfo.environment) { self.values = values }

    func string(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }
}
