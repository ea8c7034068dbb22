import Foundation
import JSON
import Spawn

/// The misbehaving target of the chaos soak (`Tests/Receivers/chaos_target.py`): several ports of
/// 127.0.0.1, each answering 200, 500, 429 with `Retry-After`, a reset, a hang or a dripped body,
/// drawn from a seed, the path and how often that path was asked. Stopped by `stop()`.
public final class ChaosTarget: Sendable {
    private let process: ChildProcess
    public let ports: [Int]

    /// The base URL of each port (each one a host to fetchq).
    public var baseURLs: [String] { ports.map { "http://127.0.0.1:\($0)" } }

    /// Starts the target on `ports` ports; a hanging answer holds its connection `hangMillis`.
    public init(seed: UInt64, ports: Int, hangMillis: Int) async throws {
        let helper = try await PythonHelper.start(
            "chaos_target.py", arguments: [String(seed), String(ports), String(hangMillis)])
        process = helper.process
        self.ports = helper.ports
    }

    public func stop() { process.signal(SIGKILL) }

    /// Requests answered so far, per kind of answer (`ok`, `error`, `ratelimit`, `reset`, `hang`, `drip`).
    public func requestsByKind() async throws -> [String: Int] {
        guard case .object(let members)? = try await TestClient.get("\(baseURLs[0])/stats").json?["by_kind"] else {
            return [:]
        }
        return Dictionary(members.map { ($0.0, $0.1.intValue ?? 0) }, uniquingKeysWith: +)
    }
}
