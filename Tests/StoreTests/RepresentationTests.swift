import Foundation
import Store
import Testing

@Suite struct TimestampTests {
    @Test func handWrittenTimestampsMatchFoundation() {
        var random = SystemRandomNumberGenerator()
        // Whole seconds from 1970 to 2200 (Foundation formats a Double, so only whole seconds are
        // exact on both sides), plus every millisecond digit on known instants.
        for _ in 0..<20_000 {
            let millis = Int64.random(in: 0...7_258_118_400, using: &random) * 1000
            let expected = Date(timeIntervalSince1970: Double(millis) / 1000)
                .formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            #expect(Representation.iso8601(millis) == expected)
        }
        #expect(Representation.iso8601(0) == "1970-01-01T00:00:00.000Z")
        #expect(Representation.iso8601(951_782_400_007) == "2000-02-29T00:00:00.007Z")
        #expect(Representation.iso8601(1_795_633_200_123) == "2026-11-25T19:00:00.123Z")
        #expect(Representation.iso8601(-1) == "1969-12-31T23:59:59.999Z")
    }
}
