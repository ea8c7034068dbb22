import Foundation

/// Wall-clock time in milliseconds since the Unix epoch, the unit of every stored time.
public enum WallClock {
    public static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
