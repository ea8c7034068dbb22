/// What a job hands down to each of its tasks as they are inserted (at submission, and on every
/// append to an open job): whether they obey robots.txt, whether they are held (the job is
/// paused), and the job's own per-host limits. Both engines store these on the task rows, so that
/// a claim returns them from the rows it updates.
package struct JobSettings: Sendable {
    package let robots: RobotsMode
    package let held: Bool
    package let hostLimits: JobHostLimits?
    /// `unique_urls`: a task repeating one already in the job is not created (`DuplicatePlan`).
    package let uniqueURLs: Bool

    package init(robots: RobotsMode, held: Bool, hostLimits: JobHostLimits?, uniqueURLs: Bool = false) {
        self.robots = robots
        self.held = held
        self.hostLimits = hostLimits
        self.uniqueURLs = uniqueURLs
    }

    /// A new job's.
    package init(_ job: NewJob) {
        self.init(robots: job.robots, held: false, hostLimits: job.hostLimits, uniqueURLs: job.uniqueURLs)
    }

    /// The `jobs` columns `read(_:from:)` takes, in order.
    package static let columns = "robots_txt, paused, host_concurrency, host_interval_ms, unique_urls"

    /// The settings from `columns`, read from `first` on.
    package static func read(_ row: some RowReader, from first: Int) throws -> JobSettings {
        JobSettings(
            robots: RobotsMode(rawValue: try row.string(first)) ?? .ignore, held: try row.bool(first + 1),
            hostLimits: JobHostLimits.unless(
                concurrency: try row.optionalInt(first + 2), intervalMillis: try row.optionalInt(first + 3)),
            uniqueURLs: try row.bool(first + 4))
    }
}
