import Foundation
import Spawn

/// A Python program of `Tests/Receivers`, run with the test virtual environment's interpreter, that
/// prints `listening PORT…` on its first line once it serves.
struct PythonHelper {
    let process: ChildProcess
    /// The numbers on its `listening` line.
    let ports: [Int]

    /// Starts `Tests/Receivers/SCRIPT ARGUMENTS…` and waits (up to 20 s) for its `listening` line.
    static func start(_ script: String, arguments: [String]) async throws -> PythonHelper {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let python = root.appending(path: ".build/test-venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw ServiceProcessError("no \(python): run scripts/test-venv.sh (make test does)")
        }
        let process = try ChildProcess.spawn(
            .init(
                executable: python, arguments: [root.appending(path: "Tests/Receivers/\(script)").path] + arguments,
                standardOutput: .pipe, standardError: .null, newProcessGroup: true))
        let log = LogBuffer()
        if let pipe = process.standardOutput { log.collect(from: pipe) }
        var ports: [Int] = []
        _ = await eventually(timeout: .seconds(20)) {
            ports =
                log.contents.split(separator: "\n").first { $0.hasPrefix("listening ") }
                .map { $0.split(separator: " ").dropFirst().compactMap { Int($0) } } ?? []
            return !ports.isEmpty || !process.isRunning
        }
        guard !ports.isEmpty else {
            process.signal(SIGKILL)
            throw ServiceProcessError("\(script) did not start: \(log.contents)")
        }
        return PythonHelper(process: process, ports: ports)
    }
}
