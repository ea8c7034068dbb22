import Logging
import Spawn

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// How a worker process ended.
public typealias Termination = Spawn.Termination

/// One running `fetchq worker` child: its pid and the pipe the supervisor writes orders to.
/// Reports and the process's end arrive through the callbacks given to `launch`.
final class WorkerProcess: Sendable {
    private let child: ChildProcess
    private let orders: PipeEnd
    private let writer: FrameWriter

    var pid: Int32 { child.pid }

    private init(child: ChildProcess, orders: PipeEnd) {
        self.child = child
        self.orders = orders
        self.writer = FrameWriter(descriptor: orders.descriptor)
    }

    /// Starts `executable worker …` with pipes for its standard input (orders) and output
    /// (reports). The worker dies with the supervisor: it is asked to (`PR_SET_PDEATHSIG`), and its
    /// orders pipe ends when the supervisor does. `onReport` runs on the worker's reader thread for
    /// each message; `onExit` runs once, after the process has been reaped.
    static func launch(
        executable: String, arguments: [String], name: String,
        onReport: @escaping @Sendable (Report) -> Void,
        onExit: @escaping @Sendable (Termination, (any Error)?) -> Void
    ) throws -> WorkerProcess {
        let child = try ChildProcess.spawn(
            .init(executable: executable, arguments: arguments, standardInput: .pipe, standardOutput: .pipe))
        guard let orders = child.standardInput, let reports = child.standardOutput else {
            child.signal(SIGKILL)
            throw WireError("the worker was started without its pipes")
        }
        FrameReader.start(
            descriptor: reports.descriptor, name: name,
            onPayload: { payload in onReport(try WireCodec.decodeReport(payload)) },
            onEnd: { error in
                if error != nil { child.signal(SIGKILL) }
                let termination = child.waitUntilExit()
                reports.close()
                onExit(termination, error)
            })
        return WorkerProcess(child: child, orders: orders)
    }

    /// Writes a batch of orders as one write.
    func send(_ batch: [Order]) throws {
        var bytes: [UInt8] = []
        for order in batch { WireCodec.encode(order, into: &bytes) }
        try writer.write(bytes)
    }

    /// Closes the order pipe: the worker aborts what it still runs and exits.
    func stop() { orders.close() }

    /// Ends the process at once.
    func kill() { child.signal(SIGKILL) }
}
