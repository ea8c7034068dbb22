import Dispatch
import Foundation

extension ChildProcess {
    /// A child run to its end, with what it wrote.
    public struct Completed: Sendable {
        public let termination: Termination
        public let standardOutput: [UInt8]
        public let standardError: [UInt8]

        public var outputText: String { String(decoding: standardOutput, as: UTF8.self) }
        public var errorText: String { String(decoding: standardError, as: UTF8.self) }
    }

    /// Runs a program to its end, collecting its piped output and error (each read on a thread of
    /// its own, so a child that fills one pipe while the other is read does not stall).
    public static func run(_ configuration: Configuration) throws(SystemCallError) -> Completed {
        let child = try spawn(configuration)
        child.standardInput?.close()
        let error = Locked<[UInt8]>([])
        let errorRead = DispatchSemaphore(value: 0)
        if let pipe = child.standardError {
            Thread {
                let bytes = (try? pipe.readToEnd()) ?? []
                error.withLock { $0 = bytes }
                errorRead.signal()
            }.start()
        } else {
            errorRead.signal()
        }
        let output = (try? child.standardOutput?.readToEnd()) ?? []
        errorRead.wait()
        let termination = child.waitUntilExit()
        return Completed(termination: termination, standardOutput: output, standardError: error.withLock { $0 })
    }
}
