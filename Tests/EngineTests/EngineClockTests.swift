import Engine
import Store
import Testing

/// The engine's clock: the system one reads real time; a manual one moves only when told.
@Suite struct EngineClockTests {
    @Test func theSystemClockReadsTheWallClockAndAMonotonicOne() {
        let before = WallClock.nowMillis()
        let first = EngineClock.system.read()
        let second = EngineClock.system.read()
        #expect(first.wallMillis >= before - 1)
        #expect(first.wallMillis <= WallClock.nowMillis() + 1)
        #expect(second.instant >= first.instant)
    }

    @Test func aManualClockMovesBothTimesTogether() {
        let manual = ManualClock()
        let clock = manual.engineClock
        let start = clock.read()
        manual.advance(by: .milliseconds(1_250))
        let later = clock.read()
        #expect(later.wallMillis - start.wallMillis == 1_250)
        #expect(later.instant - start.instant == .milliseconds(1_250))
    }
}
