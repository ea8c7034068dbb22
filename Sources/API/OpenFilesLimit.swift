#if canImport(Glibc)
    import Glibc
#endif

/// The process's open-files limit (`RLIMIT_NOFILE`), and how many HTTP connections fit in it.
public enum OpenFilesLimit {
    /// The kernel's usual ceiling (`fs.nr_open`); a hard limit above it cannot be set anyway.
    static let ceiling = 1 << 20
    /// The most connections the default allows, however high the limit: libmicrohttpd gives each
    /// one a memory pool of its own.
    static let mostConnections = 65_536

    /// The soft limit in force.
    public static var current: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1_024 }
        return limit.rlim_cur == rlim_t.max ? ceiling : Int(clamping: limit.rlim_cur)
    }

    /// Raises the soft limit to the hard limit (at most `ceiling`); answers the soft limit then in
    /// force (unchanged when the raise is not allowed). Children inherit it.
    @discardableResult
    public static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return current }
        let target = min(limit.rlim_max, rlim_t(ceiling))
        if limit.rlim_cur < target {
            limit.rlim_cur = target
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return current
    }

    /// Connections that fit in `openFiles` descriptors, leaving room for the rest of the service:
    /// the store (SQLite's files, or PostgreSQL's pool), three pipes per worker, the webhook
    /// client's connections (one per delivery in flight), logs, the listener and some to spare.
    public static func connectionBudget(openFiles: Int, processes: Int, webhookConcurrency: Int) -> Int {
        let reserved = 256 + 6 * processes + webhookConcurrency
        return min(mostConnections, max(64, openFiles - reserved))
    }
}
