import Testing

@testable import Store

/// ULIDs and the typed ids built on them.
@Suite struct IdentifierTests {
    @Test func aULIDEncodesTimeThenRandomnessInCrockfordBase32() {
        #expect(ULID.encode(time: 0, high: 0, low: 0) == String(repeating: "0", count: 26))
        // The largest 48-bit time is 7ZZZZZZZZZ; the 80 random bits follow in 16 digits.
        #expect(ULID.encode(time: (1 << 48) - 1, high: 0, low: 0) == "7ZZZZZZZZZ" + String(repeating: "0", count: 16))
        #expect(ULID.encode(time: 0, high: 0, low: 31) == String(repeating: "0", count: 25) + "Z")
        // The spec's example: time 1469918176385 ms is 01ARYZ6S41.
        #expect(ULID.encode(time: 1_469_918_176_385, high: 0, low: 0).hasPrefix("01ARYZ6S41"))
    }

    @Test func idsSortByTimeAndStayOrderedWithinOneMillisecond() {
        var ids = ULID()
        var made: [String] = []
        for millis: Int64 in [1_000, 1_000, 1_000, 1_001, 1_001, 5_000] {
            made.append(ids.next(millis: millis))
        }
        #expect(made == made.sorted())
        #expect(Set(made).count == made.count)
        // A clock that steps back does not make an id that sorts earlier.
        let afterStepBack = ids.next(millis: 10)
        #expect(afterStepBack > made[made.count - 1])
    }

    @Test func onlyWellFormedIdsAreAccepted() {
        var ids = ULID()
        let fresh = ids.next(millis: 1_700_000_000_000)
        #expect(JobID(fresh) != nil)
        #expect(TaskID(fresh) != nil)
        #expect(JobID(fresh.lowercased()) == nil, "ids are upper case")
        #expect(JobID(String(fresh.dropLast())) == nil)
        #expect(JobID("8" + fresh.dropFirst()) == nil, "the first digit holds 3 bits")
        #expect(JobID(fresh.dropLast() + "U") == nil, "U is not in the alphabet")
    }

    @Test func deliveryIdsAreTimeSortableAndTheOlderRandomOnesStillRead() {
        var ids = ULID()
        let first = DeliveryID.next(millis: 1_000, using: &ids)
        let second = DeliveryID.next(millis: 2_000, using: &ids)
        #expect(first.rawValue.hasPrefix("msg_"))
        #expect(first.rawValue < second.rawValue)
        #expect(DeliveryID(first.rawValue) == first)
        #expect(DeliveryID("msg_0123456789abcdef01234567") != nil, "made before schema version 5")
        #expect(DeliveryID("msg_0123456789ABCDEF01234567") == nil)
        #expect(DeliveryID("0123456789abcdef01234567") == nil)
        #expect(DeliveryID("msg_") == nil)
    }
}

/// What happens to a task whose attempt was lost (its worker died, or its lease ran out).
@Suite struct RescueDecisionTests {
    @Test func aLostAttemptWithAttemptsLeftIsQueuedAgainAtOnce() {
        #expect(Disposition.afterLostAttempt(attempt: 1, maxAttempts: 3, now: 500) == .retry(at: 500))
        #expect(Disposition.afterLostAttempt(attempt: 2, maxAttempts: 3, now: 500) == .retry(at: 500))
    }

    @Test func aLostLastAttemptFailsTheTask() {
        #expect(Disposition.afterLostAttempt(attempt: 3, maxAttempts: 3, now: 500) == .failed(.attemptsExhausted))
        #expect(Disposition.afterLostAttempt(attempt: 1, maxAttempts: 1, now: 500) == .failed(.attemptsExhausted))
    }
}
