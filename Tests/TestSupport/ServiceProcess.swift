import Foundation
import NIOConcurrencyHelpers
import Spawn

/// The `fetchq` binary built next to the tests.
public enum FetchqBinary {
    public static var path: String {
        get throws {
            let running = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
            let candidate = URL(fileURLWithPath: running).deletingLastPathComponent().appending(path: "fetchq").path
            guard FileManager.default.isExecutableFile(atPath: candidate) else {
                throw ServiceProcessError("no fetchq binary at \(candidate); run `swift build` first")
            }
            return candidate
        }
    }
}

public struct ServiceProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Text a child process writes, collected by a reader thread.
public final class LogBuffer: Sendable {
    private let text = NIOLockedValueBox("")

    public init() {}

    public var contents: String { text.withLockedValue { $0 } }

    /// Reads `pipe` on a thread of its own until end of file. Once the text contains `mark`,
    /// `onMark` runs at once, on that thread (a test that waited to act would let the child run on).
    public func collect(from pipe: PipeEnd, when mark: String? = nil, _ onMark: @escaping @Sendable () -> Void = {}) {
        Thread {
            var marked = false
            while let bytes = try? pipe.read(), !bytes.isEmpty {
                let all = self.text.withLockedValue {
                    $0 += String(decoding: bytes, as: UTF8.self)
                    return $0
                }
                if !marked, let mark, all.contains(mark) {
                    marked = true
                    onMark()
                }
            }
        }.start()
    }
}

/// A real `fetchq serve` child process on an ephemeral port, with its log captured.
public final class ServiceProcess: Sendable {
    private let process: ChildProcess
    private let output: LogBuffer
    public let port: Int

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var pid: Int32 { process.pid }
    public var log: String { output.contents }
    public var isRunning: Bool { process.isRunning }

    private init(process: ChildProcess, output: LogBuffer, port: Int) {
        self.process = process
        self.output = output
        self.port = port
    }

    /// Starts `fetchq serve --port 0 --db DATABASE ARGUMENTS…` and waits until it listens. Unless
    /// `guarded`, the SSRF guard is off, since the tests' targets live on 127.0.0.1.
    public static func start(database: URL, arguments: [String] = [], guarded: Bool = false) async throws
        -> ServiceProcess
    {
        // In a process group of its own, as every helper the tests start: whatever it or its
        // children send to their group never reaches the test process.
        let process = try ChildProcess.spawn(
            .init(
                executable: try FetchqBinary.path,
                arguments: ["serve", "--port", "0", "--db", database.path]
                    + (guarded ? [] : ["--allow-private-targets"])
                    + arguments,
                standardOutput: .pipe, standardError: .standardOutput, newProcessGroup: true))
        let output = LogBuffer()
        if let pipe = process.standardOutput { output.collect(from: pipe) }
        var port: Int?
        _ = await eventually(timeout: .seconds(60)) {
            port = Self.port(in: output.contents)
            return port != nil || !process.isRunning
        }
        guard let port else {
            process.signal(SIGKILL)
            throw ServiceProcessError("fetchq serve did not start listening; log:\n\(output.contents)")
        }
        return ServiceProcess(process: process, output: output, port: port)
    }

    private static func port(in log: String) -> Int? {
        guard let line = log.split(separator: "\n").first(where: { $0.contains("listening") }),
            let range = line.range(of: "http.port=")
        else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    /// PIDs of the worker processes the log says were started, in order.
    public var workerPIDs: [Int32] {
        log.split(separator: "\n").filter { $0.contains("worker started") }.compactMap { line in
            guard let range = line.range(of: "worker.pid=") else { return nil }
            return Int32(line[range.upperBound...].prefix { $0.isNumber })
        }
    }

    public func signal(_ signal: Int32) { process.signal(signal) }

    /// Waits for the process to end; answers how it ended, or nil if it still runs at the deadline.
    public func waitForExit(timeout: Duration = .seconds(30)) async -> Termination? {
        _ = await eventually(timeout: timeout) { !process.isRunning }
        return process.termination
    }

    /// Ends the process for good (test clean-up).
    public func terminate() async {
        if process.isRunning {
            process.signal(SIGKILL)
            _ = await process.exited()
        }
    }
}

/// Runs `body` with a running service on a fresh database, stopping it afterwards.
public func withRunningService<T>(
    arguments: [String] = [], guarded: Bool = false, _ body: (ServiceProcess, URL) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory { directory in
        let database = directory.appending(path: "fetchq.db")
        let service = try await ServiceProcess.start(database: database, arguments: arguments, guarded: guarded)
        do {
            let result = try await body(service, database)
            await service.terminate()
            return result
        } catch {
            await service.terminate()
            throw error
        }
    }
}
