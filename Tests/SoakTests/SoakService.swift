import Foundation
import TestSupport

/// The fetchq service under the soak: one `fetchq serve` at a time on the same database, killed
/// and restarted by the chaos loop. Remembers what was done to it.
actor SoakService {
    private(set) var current: ServiceProcess
    private let database: URL
    private let arguments: [String]
    private(set) var restarts = 0
    private(set) var workerKills = 0
    private(set) var serviceKills = 0
    private(set) var serviceTerms = 0
    /// How each SIGTERMed service ended (each should be `exited(0)`).
    private(set) var termEndings: [String] = []
    private var killed: Set<Int32> = []

    init(database: URL, arguments: [String]) async throws {
        self.database = database
        self.arguments = arguments
        current = try await ServiceProcess.start(database: database, arguments: arguments)
    }

    var baseURL: String { current.baseURL }

    /// SIGKILLs one of the current service's live workers, the `draw`-th modulo their number;
    /// false if none is up.
    func killWorker(draw: UInt64) -> Bool {
        let service = current
        let live = service.workerPIDs.filter { !killed.contains($0) && Self.parent(of: $0) == service.pid }
        guard !live.isEmpty else { return false }
        let victim = live[Int(draw % UInt64(live.count))]
        kill(victim, SIGKILL)
        killed.insert(victim)
        workerKills += 1
        return true
    }

    /// Sends `signal` (SIGKILL or SIGTERM) to the whole service, waits for it to end, and starts a
    /// new one on the same database.
    func interrupt(with signal: Int32) async throws {
        let old = current
        old.signal(signal)
        guard let ended = await old.waitForExit(timeout: .seconds(120)) else {
            throw ServiceProcessError("the service did not end after signal \(signal); log:\n\(old.log.suffix(4_000))")
        }
        if signal == SIGTERM {
            serviceTerms += 1
            termEndings.append("\(ended)")
        } else {
            serviceKills += 1
        }
        current = try await ServiceProcess.start(database: database, arguments: arguments)
        restarts += 1
    }

    /// Stops the service for good with SIGTERM, and answers how it ended.
    func stop() async -> String {
        current.signal(SIGTERM)
        let ended = await current.waitForExit(timeout: .seconds(120))
        await current.terminate()
        return ended.map { "\($0)" } ?? "still running after 120 s"
    }

    /// The parent process of `pid` (from `/proc/PID/stat`), so that only the current service's own
    /// workers are signalled, never a recycled pid.
    private static func parent(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }
}
