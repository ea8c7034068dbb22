import Store

/// Where the engine reads the time and waits for it: wall-clock milliseconds (what the store records
/// and compares due times with), a monotonic instant (timeouts, restart pauses, the shutdown grace),
/// and the wait between ticks. Tests pass a clock they advance by hand.
public struct EngineClock: Sendable {
    /// Milliseconds since the Unix epoch.
    public var wallMillis: @Sendable () -> Int64
    /// A time that never goes backwards.
    public var monotonic: @Sendable () -> ContinuousClock.Instant
    /// Waits `duration` (the ticks of the scheduler and the webhook dispatcher); throws when the
    /// waiting task is cancelled.
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(
        wallMillis: @escaping @Sendable () -> Int64, monotonic: @escaping @Sendable () -> ContinuousClock.Instant,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.wallMillis = wallMillis
        self.monotonic = monotonic
        self.sleep = sleep
    }

    /// The system's clocks.
    public static let system = EngineClock(wallMillis: { WallClock.nowMillis() }, monotonic: { .now })

    /// Both clocks, read once.
    public func read() -> EngineTime { EngineTime(wallMillis: wallMillis(), instant: monotonic()) }

    /// Posts `event` into `inbox` every `interval` by this clock, until the task is cancelled.
    func tick<Event: Sendable>(every interval: Duration, posting event: Event, into inbox: EventInbox<Event>) async {
        while !Task.isCancelled {
            do { try await sleep(interval) } catch { return }
            inbox.post(event)
        }
    }
}

/// One reading of the engine's clock: the same moment on the wall clock and the monotonic clock.
public struct EngineTime: Sendable, Equatable {
    public var wallMillis: Int64
    public var instant: ContinuousClock.Instant

    public init(wallMillis: Int64, instant: ContinuousClock.Instant) {
        self.wallMillis = wallMillis
        self.instant = instant
    }
}
