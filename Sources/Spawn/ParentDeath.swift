import CSpawn
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The child's side of `ChildProcess.Configuration.dieWithParent`.
public enum ParentDeath {
    /// Set by `ChildProcess.spawn` to the spawning process's pid.
    public static let environmentKey = "FETCHQ_PARENT_PID"

    /// What `arm()` found.
    public enum Outcome: Sendable, Equatable {
        /// Nobody asked (the variable is not set): the process lives on its own.
        case notAsked
        /// This process now receives SIGKILL when its parent dies.
        case armed
        /// The parent died before the signal could be armed; the caller should exit.
        case parentGone
    }

    /// Arms `PR_SET_PDEATHSIG` with SIGKILL when this process was started with `dieWithParent`,
    /// then checks the parent is still the one that started it: a parent that died between the
    /// spawn and this call would otherwise never send the signal. Removes the variable, so a
    /// process this one starts some other way does not inherit the request.
    public static func arm() -> Outcome {
        guard let value = ProcessInfo.processInfo.environment[environmentKey] else { return .notAsked }
        unsetenv(environmentKey)
        guard let parent = pid_t(value) else { return .notAsked }
        guard fetchq_spawn_set_parent_death_signal(SIGKILL) == 0 else { return .notAsked }
        return getppid() == parent ? .armed : .parentGone
    }
}
