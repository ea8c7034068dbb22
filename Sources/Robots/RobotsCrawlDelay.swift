/// Reads a `Crawl-delay` value: seconds as digits with an optional decimal fraction.
enum RobotsCrawlDelay {
    /// Milliseconds for values such as `2`, `0.5` or `.25`; `nil` for anything else (signs,
    /// exponents, units, empty). Digits past the third decimal are dropped, and a value too large
    /// for `Int` saturates, since the caller will cap it to its own maximum anyway.
    static func milliseconds(from value: ArraySlice<UInt8>) -> Int? {
        let dot = value.firstIndex(of: UInt8(ascii: "."))
        let whole = value[..<(dot ?? value.endIndex)]
        let fraction = dot.map { value[value.index(after: $0)...] } ?? value[value.endIndex...]
        guard !(whole.isEmpty && fraction.isEmpty), whole.allSatisfy(isDigit), fraction.allSatisfy(isDigit)
        else { return nil }

        var seconds = 0
        for digit in whole {
            let (shifted, overflowShift) = seconds.multipliedReportingOverflow(by: 10)
            let (added, overflowAdd) = shifted.addingReportingOverflow(Int(digit - UInt8(ascii: "0")))
            guard !overflowShift, !overflowAdd else { return Int.max }
            seconds = added
        }
        let (wholeMilliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return Int.max }

        var fractionMilliseconds = 0
        for (place, digit) in zip([100, 10, 1], fraction) {
            fractionMilliseconds += place * Int(digit - UInt8(ascii: "0"))
        }
        let (total, overflowTotal) = wholeMilliseconds.addingReportingOverflow(fractionMilliseconds)
        return overflowTotal ? Int.max : total
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
