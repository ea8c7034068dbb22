import Foundation
import Spawn
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A child started with `dieWithParent` dies with its parent, the way a user notices it: no
/// `fetchq worker` outlives the `fetchq serve` that started it.
@Suite struct ParentDeathTests {
    @Test func killingTheServiceTakesItsWorkersWithIt() async throws {
        try await withRunningService(arguments: ["--processes", "2"]) { service, _ in
            let started = await eventually { service.workerPIDs.count == 2 }
            #expect(started, "log:\n\(service.log)")
            let workers: [Int32] = service.workerPIDs
            #expect(livingCount(workers) == 2)
            // A worker arms its death signal first thing, before it opens anything beyond its three
            // standard descriptors (its HTTP client's event loop opens several): wait for that.
            let running = await eventually { workers.allSatisfy { descriptorCount($0) > 3 } }
            #expect(running)
            // Stopped workers cannot read the end of their orders pipe: only the death signal the
            // kernel sends when their parent dies can end them.
            for worker in workers { kill(worker, SIGSTOP) }
            service.signal(SIGKILL)
            let termination = await service.waitForExit()
            #expect(termination == .signaled(SIGKILL))
            let gone = await eventually(timeout: .seconds(10)) { livingCount(workers) == 0 }
            #expect(gone, "workers still alive after their service was killed")
        }
    }
}

/// How many descriptors process `pid` has open.
func descriptorCount(_ pid: Int32) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
}

/// How many of `pids` are live processes.
func livingCount(_ pids: [Int32]) -> Int { pids.filter { isAlive($0) }.count }

/// Whether `pid` is a live process (not gone, not a zombie waiting for init to reap it).
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
    return state != "Z" && state != "X"
}
