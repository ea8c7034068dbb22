import Store

/// Where the engine reads the time: wall-clock milliseconds (what the store records and compares due
/// times with) and a monotonic instant (timeouts, restart pauses, the shutdown grace). Tests pass a
/// clock they advance by hand.
public struct EngineClock: Sendable {
    /// Milliseconds since the Unix epoch.
    public var wallMillis: @Sendable () -> Int64
    /// A time that never goes backwards.
    public var monotonic: @Sendable () -> ContinuousClock.Instant

    public init(
        wallMillis: @escaping @Sendable () -> Int64, monotonic: @escaping @Sendable () -> ContinuousClock.Instant
    ) {
        self.wallMillis = wallMillis
        self.monotonic = monotonic
    }

    /// The system's clocks.
    public static let system = EngineClock(wallMillis: { WallClock.nowMillis() }, monotonic: { .now })

    /// Both clocks, read once.
    public func read() -> EngineTime { EngineTime(wallMillis: wallMillis(), instant: monotonic()) }
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
