import Foundation
import Spawn

/// A real, small file system (a tmpfs of a few megabytes) mounted on a fresh directory, unmounted
/// afterwards whatever happens: a disk the tests can fill. Needs root, as CI's tests run.
public func withSmallDisk<T>(megabytes: Int, _ body: (URL) async throws -> T) async throws -> T {
    try await withTemporaryDirectory { directory in
        let mountPoint = directory.appending(path: "disk")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        try await run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", mountPoint.path])
        do {
            let result = try await body(mountPoint)
            try await run("/bin/umount", ["-l", mountPoint.path])
            return result
        } catch {
            try? await run("/bin/umount", ["-l", mountPoint.path])
            throw error
        }
    }
}

/// Free bytes of the file system holding `url`.
public func freeBytes(at url: URL) throws -> Int64 {
    let attributes = try FileManager.default.attributesOfFileSystem(forPath: url.path)
    return (attributes[.systemFreeSize] as? NSNumber)?.int64Value ?? 0
}

private func run(_ executable: String, _ arguments: [String]) async throws {
    let process = try ChildProcess.spawn(.init(executable: executable, arguments: arguments))
    let termination = await process.exited()
    guard case .exited(0) = termination else {
        throw ServiceProcessError("\(executable) \(arguments.joined(separator: " ")) ended with \(termination)")
    }
}
