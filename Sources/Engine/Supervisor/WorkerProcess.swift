import Foundation
import Logging

/// How a worker process ended: data, not an error.
public enum Termination: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): "exited with code \(code)"
        case .signaled(let signal): "killed by signal \(signal)"
        }
    }
}

/// One running `fetchq worker` child: its pid and the pipe the supervisor writes orders to.
/// Reports and the process's end arrive through the callbacks given to `launch`.
final class WorkerProcess: Sendable {
    let pid: Int32
    private let orders: FrameWriter
    /// `@unchecked Sendable` box: `Process` is only used here to launch and, on the reader thread,
    /// to reap; its pipe's file handle is closed once, by `stop()` or the reader's end.
    private struct Handles: @unchecked Sendable {
        let process: Process
        let input: FileHandle
    }
    private let handles: Handles

    private init(pid: Int32, orders: FrameWriter, handles: Handles) {
        self.pid = pid
        self.orders = orders
        self.handles = handles
    }

    /// Starts `executable worker …`. `onReport` runs on the worker's reader thread for each
    /// message; `onExit` runs once, after the process has been reaped.
    static func launch(
        executable: String, arguments: [String], name: String,
        onReport: @escaping @Sendable (Report) -> Void,
        onExit: @escaping @Sendable (Termination, (any Error)?) -> Void
    ) throws -> WorkerProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let handles = Handles(process: process, input: input.fileHandleForWriting)
        let worker = WorkerProcess(
            pid: process.processIdentifier,
            orders: FrameWriter(descriptor: input.fileHandleForWriting.fileDescriptor), handles: handles)
        FrameReader.start(
            descriptor: output.fileHandleForReading.fileDescriptor, name: name,
            onPayload: { payload in onReport(try WireCodec.decodeReport(payload)) },
            onEnd: { error in
                if error != nil { Glibc.kill(handles.process.processIdentifier, SIGKILL) }
                handles.process.waitUntilExit()
                let termination: Termination =
                    handles.process.terminationReason == .uncaughtSignal
                    ? .signaled(handles.process.terminationStatus) : .exited(handles.process.terminationStatus)
                try? output.fileHandleForReading.close()
                onExit(termination, error)
            })
        return worker
    }

    /// Writes a batch of orders as one write.
    func send(_ batch: [Order]) throws {
        var bytes: [UInt8] = []
        for order in batch { WireCodec.encode(order, into: &bytes) }
        try orders.write(bytes)
    }

    /// Closes the order pipe: the worker aborts what it still runs and exits.
    func stop() { try? handles.input.close() }

    /// Ends the process at once.
    func kill() { _ = Foundation.kill(pid, SIGKILL) }
}
