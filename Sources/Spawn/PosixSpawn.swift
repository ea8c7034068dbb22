import CSpawn

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// What the child does with one of its standard descriptors before it runs the program.
enum FileAction {
    /// `dup2(source, target)`: the child's `target` becomes a pipe end.
    case duplicate(Int32, onto: Int32)
    /// Opens `/dev/null` as `target`.
    case null(onto: Int32, flags: Int32)
}

/// The one call into `posix_spawn`. Every pointer it hands to C lives inside this function.
enum PosixSpawn {
    /// Starts `executable` and answers its pid. In the child, in order: a new process group when
    /// asked; every signal's disposition back to the default (an ignored `SIGPIPE` included) and an
    /// empty signal mask; the file actions; every descriptor from 3 up closed; then `execve`.
    static func spawn(
        executable: String, arguments: [String], environment: [String], actions: [FileAction],
        newProcessGroup: Bool
    ) throws(SystemCallError) -> pid_t {
        var fileActions = posix_spawn_file_actions_t()
        try checkReturnedError("posix_spawn_file_actions_init", posix_spawn_file_actions_init(&fileActions))
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        for action in actions {
            switch action {
            case .duplicate(let source, let target):
                try checkReturnedError(
                    "posix_spawn_file_actions_adddup2", posix_spawn_file_actions_adddup2(&fileActions, source, target))
            case .null(let target, let flags):
                try checkReturnedError(
                    "posix_spawn_file_actions_addopen",
                    posix_spawn_file_actions_addopen(&fileActions, target, "/dev/null", flags, 0))
            }
        }
        try checkReturnedError("closefrom", fetchq_spawn_add_close_from(&fileActions, 3))

        var attributes = posix_spawnattr_t()
        try checkReturnedError("posix_spawnattr_init", posix_spawnattr_init(&attributes))
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var everySignal = sigset_t()
        sigfillset(&everySignal)
        sigdelset(&everySignal, SIGKILL)
        sigdelset(&everySignal, SIGSTOP)
        try checkReturnedError("posix_spawnattr_setsigmask", posix_spawnattr_setsigmask(&attributes, &noSignals))
        try checkReturnedError(
            "posix_spawnattr_setsigdefault", posix_spawnattr_setsigdefault(&attributes, &everySignal))
        var flags = Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETSIGDEF)
        if newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            try checkReturnedError("posix_spawnattr_setpgroup", posix_spawnattr_setpgroup(&attributes, 0))
        }
        try checkReturnedError("posix_spawnattr_setflags", posix_spawnattr_setflags(&attributes, Int16(flags)))

        var pid: pid_t = 0
        let code = withCStringArray([executable] + arguments) { argv in
            withCStringArray(environment) { envp in
                executable.contains("/")
                    ? posix_spawn(&pid, executable, &fileActions, &attributes, argv, envp)
                    : posix_spawnp(&pid, executable, &fileActions, &attributes, argv, envp)
            }
        }
        try checkReturnedError("posix_spawn \(executable)", code)
        return pid
    }

    /// Calls `body` with a NULL-terminated array of C strings, freed when it returns.
    private static func withCStringArray<R>(
        _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R
    ) -> R {
        let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { (array + index).initialize(to: strdup(string)) }
        (array + strings.count).initialize(to: nil)
        defer {
            for index in 0..<strings.count { free(array[index]) }
            array.deallocate()
        }
        return body(array)
    }
}
