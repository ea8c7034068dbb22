import Foundation
import JSON
import Spawn

/// Parses Prometheus text with Python's `prometheus_client` (in the test venv), so the metrics
/// are checked by a parser fetchq did not write.
public enum MetricsParser {
    /// Sample values by `name{label="value",...}`, labels in name order (`{}` for none).
    public static func parse(_ text: String) async throws -> [String: Double] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let python = root.appending(path: ".build/test-venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw ServiceProcessError("no \(python): run scripts/test-venv.sh (make test does)")
        }
        return try await withTemporaryDirectory { directory in
            let file = directory.appending(path: "metrics.txt")
            try Data(text.utf8).write(to: file)
            let process = try ChildProcess.spawn(
                .init(
                    executable: python,
                    arguments: [root.appending(path: "Tests/Receivers/parse_metrics.py").path, file.path],
                    standardOutput: .pipe, standardError: .inherit))
            let output = try process.standardOutput?.readToEnd() ?? []
            guard case .exited(0) = await process.exited(), case .object(let members)? = try? JSONParser.parse(output)
            else { throw ServiceProcessError("prometheus_client could not parse the metrics:\n\(text)") }
            var samples: [String: Double] = [:]
            for (name, value) in members {
                switch value {
                case .integer(let number): samples[name] = Double(number)
                case .number(let number): samples[name] = number
                default: break
                }
            }
            return samples
        }
    }
}
