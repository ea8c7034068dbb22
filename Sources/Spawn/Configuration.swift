import Foundation

extension ChildProcess {
    /// What to start and how to wire its standard descriptors.
    public struct Configuration: Sendable {
        /// A path (with a `/`), or a name looked up in `PATH`.
        public var executable: String
        public var arguments: [String]
        /// The child's whole environment; this process's own by default.
        public var environment: [String: String]
        public var standardInput: Stream
        public var standardOutput: Stream
        public var standardError: ErrorStream
        /// Puts the child in a process group of its own, so a signal to this process's group
        /// (a terminal's Ctrl-C) does not reach it.
        public var newProcessGroup: Bool
        /// Asks the child to end with this process: the child sees `FETCHQ_PARENT_PID` and, if it
        /// calls `ParentDeath.arm()` (fetchq's commands and the test helpers do), is killed when
        /// this process dies.
        public var dieWithParent: Bool

        public init(
            executable: String, arguments: [String] = [],
            environment: [String: String] = ProcessInfo.processInfo.environment,
            standardInput: Stream = .null, standardOutput: Stream = .inherit, standardError: ErrorStream = .inherit,
            newProcessGroup: Bool = false, dieWithParent: Bool = true
        ) {
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
            self.standardInput = standardInput
            self.standardOutput = standardOutput
            self.standardError = standardError
            self.newProcessGroup = newProcessGroup
            self.dieWithParent = dieWithParent
        }
    }

    /// Where a child's standard input or output goes.
    public enum Stream: Sendable, Equatable {
        /// This process's own descriptor.
        case inherit
        /// `/dev/null`.
        case null
        /// A new pipe; the parent's end is on the `ChildProcess`.
        case pipe
    }

    /// Where a child's standard error goes.
    public enum ErrorStream: Sendable, Equatable {
        case inherit
        case null
        case pipe
        /// Wherever its standard output goes.
        case standardOutput
    }
}
