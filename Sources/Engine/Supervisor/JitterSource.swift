import NIOConcurrencyHelpers

/// Where the engine draws the randomness of its backoffs (retry jitter, webhook retry jitter): the
/// system's generator in service, a seeded one in tests, so that a test can name the waits it
/// expects. Copies share one stream.
public struct JitterSource: RandomNumberGenerator, Sendable {
    private let draw: @Sendable () -> UInt64

    public init(draw: @escaping @Sendable () -> UInt64) { self.draw = draw }

    public mutating func next() -> UInt64 { draw() }

    /// The system's cryptographic generator.
    public static let system = JitterSource {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }

    /// A reproducible stream (SplitMix64) from `seed`.
    public static func seeded(_ seed: UInt64) -> JitterSource {
        let state = NIOLockedValueBox(seed)
        return JitterSource {
            state.withLockedValue { state in
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
        }
    }
}
