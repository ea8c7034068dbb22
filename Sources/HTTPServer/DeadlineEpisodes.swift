/// Tells when the deadlines start and stop closing many connections, so that the log says so once
/// per episode, with the client addresses behind it, instead of once per connection.
///
/// An episode starts when at least `threshold` connections were cut within the last `window`,
/// and ends once a whole `window` has passed with fewer than that. A plain value: the sweeper
/// feeds it what it cut and the time, and logs what it reports.
struct DeadlineEpisodes {
    /// What to log.
    enum Report: Equatable {
        /// Many connections are being cut: how many in the last window, and the top addresses.
        case started(count: Int, top: [AddressCount])
        /// The episode is over: how many were cut during it, and the top addresses.
        case ended(total: Int, top: [AddressCount])
    }

    struct AddressCount: Equatable {
        let address: String
        let count: Int
    }

    let threshold: Int
    /// In nanoseconds.
    let window: UInt64
    /// Addresses of the connections cut within the last window, oldest first.
    private var recent: [(at: UInt64, address: String)] = []
    /// While an episode lasts: connections cut since it started, by address.
    private var episode: [String: Int]?
    private var episodeStart: UInt64 = 0

    init(threshold: Int = 50, windowSeconds: Int = 10) {
        self.threshold = threshold
        self.window = UInt64(windowSeconds) * 1_000_000_000
    }

    var inEpisode: Bool { episode != nil }

    /// Records the connections cut at `now` (their addresses; none is fine) and says what to log.
    mutating func record(_ addresses: [String], at now: UInt64) -> Report? {
        recent.removeAll { now > $0.at && now - $0.at > window }
        recent.append(contentsOf: addresses.map { (now, $0) })
        if var counts = episode {
            for address in addresses { counts[address, default: 0] += 1 }
            episode = counts
            // It lasts a window at least, so that one burst is one episode, not several.
            guard recent.count < threshold, now > episodeStart, now - episodeStart >= window else { return nil }
            episode = nil
            return .ended(total: counts.values.reduce(0, +), top: Self.top(counts))
        }
        guard recent.count >= threshold else { return nil }
        var counts: [String: Int] = [:]
        for entry in recent { counts[entry.address, default: 0] += 1 }
        episode = counts
        episodeStart = now
        return .started(count: recent.count, top: Self.top(counts))
    }

    /// The five addresses with the most connections cut, most first (ties by address).
    static func top(_ counts: [String: Int], _ count: Int = 5) -> [AddressCount] {
        counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(count).map {
            AddressCount(address: $0.key, count: $0.value)
        }
    }
}
