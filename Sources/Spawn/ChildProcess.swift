import CSpawn
import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A running (or ended) child process started with `posix_spawn`: its pid, the parent's ends of
/// the pipes it was given, and how it ended once it has.
///
/// Each child has one thread of its own, which spawns it and then waits for it: the child is
/// reaped as soon as it ends, never left a zombie, and a child that asked to die with its parent
/// (`PR_SET_PDEATHSIG` follows the thread that spawned it) is not killed by a pool thread retiring.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    /// The write end of the child's standard input, when it is `.pipe`.
    public let standardInput: PipeEnd?
    /// The read end of the child's standard output, when it is `.pipe`.
    public let standardOutput: PipeEnd?
    /// The read end of the child's standard error, when it is `.pipe`.
    public let standardError: PipeEnd?
    private let exit: ExitWatch

    private init(
        pid: pid_t, standardInput: PipeEnd?, standardOutput: PipeEnd?, standardError: PipeEnd?, exit: ExitWatch
    ) {
        self.pid = pid
        self.standardInput = standardInput
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.exit = exit
    }

    /// Starts the program `configuration` describes. Answers once `execve` has succeeded in the
    /// child; throws if the program could not be started (it does not exist, is not executable…).
    public static func spawn(_ configuration: Configuration) throws(SystemCallError) -> ChildProcess {
        var pipes = StandardPipes()
        do throws(SystemCallError) {
            try pipes.open(for: configuration)
        } catch {
            pipes.closeAll()
            throw error
        }
        var environment = configuration.environment
        if configuration.dieWithParent {
            environment[ParentDeath.environmentKey] = String(getpid())
        } else {
            environment.removeValue(forKey: ParentDeath.environmentKey)
        }
        let request = SpawnRequest(
            executable: configuration.executable, arguments: configuration.arguments,
            environment: environment.map { "\($0.key)=\($0.value)" }, actions: pipes.actions(for: configuration),
            newProcessGroup: configuration.newProcessGroup)

        let exit = ExitWatch()
        let started = Handoff<Result<pid_t, SystemCallError>>()
        let thread = Thread {
            let result = Result { () throws(SystemCallError) in try request.run() }
            started.put(result)
            if case .success(let pid) = result { exit.reap(pid) }
        }
        thread.name = "fetchq-child-\(URL(fileURLWithPath: configuration.executable).lastPathComponent)"
        thread.start()
        let result = started.take()
        pipes.closeChildEnds()
        switch result {
        case .success(let pid):
            return ChildProcess(
                pid: pid, standardInput: pipes.parentEnd(0), standardOutput: pipes.parentEnd(1),
                standardError: pipes.parentEnd(2), exit: exit)
        case .failure(let error):
            pipes.closeAll()
            throw error
        }
    }

    /// How the child ended, or nil while it runs.
    public var termination: Termination? { exit.termination }

    public var isRunning: Bool { exit.termination == nil }

    /// Sends `signal` to the child, unless it has already been reaped (its pid may then belong to
    /// another process).
    public func signal(_ signal: Int32) { exit.whileNotReaped { _ = kill(pid, signal) } }

    /// Blocks the calling thread until the child has ended.
    public func waitUntilExit() -> Termination {
        let done = Handoff<Termination>()
        exit.onExit { done.put($0) }
        return done.take()
    }

    /// Suspends until the child has ended.
    public func exited() async -> Termination {
        await withCheckedContinuation { continuation in exit.onExit { continuation.resume(returning: $0) } }
    }
}

/// What an exec needs, ready for the spawning thread.
private struct SpawnRequest: Sendable {
    let executable: String
    let arguments: [String]
    let environment: [String]
    let actions: [FileAction]
    let newProcessGroup: Bool

    func run() throws(SystemCallError) -> pid_t {
        try PosixSpawn.spawn(
            executable: executable, arguments: arguments, environment: environment, actions: actions,
            newProcessGroup: newProcessGroup)
    }
}

/// The pipes for a child's standard descriptors 0, 1 and 2. Both ends are opened close-on-exec,
/// so no other child spawned meanwhile inherits them; `dup2` in the child clears the flag on the
/// copy it makes.
private struct StandardPipes {
    /// For each standard descriptor with a pipe: (parent's end, child's end).
    private var ends: [Int32: (parent: Int32, child: Int32)] = [:]

    mutating func open(for configuration: ChildProcess.Configuration) throws(SystemCallError) {
        if configuration.standardInput == .pipe { try add(0, childReads: true) }
        if configuration.standardOutput == .pipe { try add(1, childReads: false) }
        if configuration.standardError == .pipe { try add(2, childReads: false) }
    }

    private mutating func add(_ target: Int32, childReads: Bool) throws(SystemCallError) {
        var descriptors: [Int32] = [-1, -1]
        try checkReturnedError("pipe2", fetchq_spawn_pipe(&descriptors))
        ends[target] =
            childReads
            ? (parent: descriptors[1], child: descriptors[0]) : (parent: descriptors[0], child: descriptors[1])
    }

    func actions(for configuration: ChildProcess.Configuration) -> [FileAction] {
        var actions: [FileAction] = []
        for target: Int32 in 0...2 {
            if let pair = ends[target] { actions.append(.duplicate(pair.child, onto: target)) }
        }
        if configuration.standardInput == .null { actions.append(.null(onto: 0, flags: O_RDONLY)) }
        if configuration.standardOutput == .null { actions.append(.null(onto: 1, flags: O_WRONLY)) }
        switch configuration.standardError {
        case .null: actions.append(.null(onto: 2, flags: O_WRONLY))
        case .standardOutput: actions.append(.duplicate(1, onto: 2))
        case .inherit, .pipe: break
        }
        return actions
    }

    func parentEnd(_ target: Int32) -> PipeEnd? { ends[target].map { PipeEnd(descriptor: $0.parent) } }

    mutating func closeChildEnds() {
        for (target, pair) in ends {
            _ = close(pair.child)
            ends[target] = (parent: pair.parent, child: -1)
        }
    }

    mutating func closeAll() {
        for pair in ends.values {
            if pair.child >= 0 { _ = close(pair.child) }
            _ = close(pair.parent)
        }
        ends = [:]
    }
}

/// One value passed from one thread to another that waits for it.
private final class Handoff<Value: Sendable>: Sendable {
    private let value = Locked<Value?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func put(_ new: Value) {
        value.withLock { $0 = new }
        ready.signal()
    }

    func take() -> Value {
        while true {
            ready.wait()
            if let taken = value.withLock({ $0 }) { return taken }
        }
    }
}

/// A child's end, as its waiting thread learns it, and who waits for it.
private final class ExitWatch: Sendable {
    private struct State {
        var termination: Termination?
        var waiters: [@Sendable (Termination) -> Void] = []
    }
    private let state = Locked(State())

    var termination: Termination? { state.withLock { $0.termination } }

    /// Runs `body` under the lock that reaping takes, if the child is not reaped yet: while it
    /// runs, the pid is still the child's (alive, or a zombie nobody else can reap).
    func whileNotReaped(_ body: () -> Void) {
        state.withLock { state in if state.termination == nil { body() } }
    }

    /// Calls `waiter` once the child has ended: at once if it has.
    func onExit(_ waiter: @escaping @Sendable (Termination) -> Void) {
        let ended = state.withLock { state -> Termination? in
            if state.termination == nil { state.waiters.append(waiter) }
            return state.termination
        }
        if let ended { waiter(ended) }
    }

    /// Waits for the child to end (without reaping it), then reaps it under the lock.
    func reap(_ pid: pid_t) {
        var info = siginfo_t()
        let waited = Result { () throws(SystemCallError) in
            try systemCall("waitid") { Int(waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT)) }
        }
        let (termination, waiters) = state.withLock { state in
            var status: Int32 = 0
            let reaped = (try? systemCall("waitpid") { Int(waitpid(pid, &status, 0)) }) != nil
            // Only if SIGCHLD is ignored does the kernel reap on its own (waitid fails with
            // ECHILD): the status is gone then, and -1 says so.
            let ended = reaped && (try? waited.get()) != nil ? Termination(waitStatus: status) : .exited(-1)
            state.termination = ended
            defer { state.waiters = [] }
            return (ended, state.waiters)
        }
        for waiter in waiters { waiter(termination) }
    }
}
