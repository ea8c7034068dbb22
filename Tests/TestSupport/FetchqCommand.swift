import Dispatch
import Foundation
import Spawn

/// Runs the `fetchq` client as a subprocess, to its end, on a thread of its own (so a long run
/// holds no thread of Swift's cooperative pool, which the in-process target server needs).
public enum FetchqCommand {
    public static func run(_ arguments: [String], environment: [String: String] = [:]) async throws
        -> ChildProcess.Completed
    {
        let binary = try FetchqBinary.path
        var merged = ProcessInfo.processInfo.environment
        merged.merge(environment) { $1 }
        let configuration = ChildProcess.Configuration(
            executable: binary, arguments: arguments, environment: merged, standardOutput: .pipe,
            standardError: .pipe)
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try ChildProcess.run(configuration) })
            }
        }
    }
}
