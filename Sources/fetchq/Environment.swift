import ArgumentParser
import Foundation

/// Reads `FETCHQ_*` settings. A value that is set but unusable is an error, never ignored.
struct Environment {
    let values: [String: String]

    init(_ values: [String: String] = ProcessInfo.processInfo.environment) { self.values = values }

    func string(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    /// A yes/no variable: `1`, `true` or `yes` mean yes.
    func flag(_ name: String) -> Bool {
        ["1", "true", "yes"].contains(string(name)?.lowercased() ?? "")
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw ValidationError(
                "\(name)=\(text): expected an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A flag's value, else the variable's, else the default, checked against `range`.
    func resolve(_ flag: Int?, _ name: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        if let flag {
            guard range.contains(flag) else {
                throw ValidationError("\(name.flagName) must be from \(range.lowerBound) to \(range.upperBound)")
            }
            return flag
        }
        return try int(name, in: range) ?? fallback
    }
}

extension String {
    /// `FETCHQ_MAX_BODY_BYTES` → `--max-body-bytes`, for messages.
    fileprivate var flagName: String {
        "--" + dropFirst("FETCHQ_".count).lowercased().replacingOccurrences(of: "_", with: "-")
    }
}
