/// The open connections of one HTTP server and the deadlines each one is under: a plain value,
/// driven by libmicrohttpd's events and the sweeper's clock, tested without sockets.
///
/// A connection is in one phase at a time:
/// - `head`: from its accept until its first request line and headers are complete. It must get
///   there within `headerTimeout`, or it is cut (with a 408).
/// - `idle`: a kept-alive connection between two requests. libmicrohttpd does not say when the
///   next request's first byte arrives, so no deadline of ours applies: its idle timeout closes
///   it, silently. (An unasked-for 408 on an idle connection would be read by a client as the
///   answer to the request it was just sending there.)
/// - `body`: from the complete head until the whole body has been read. After the body's first
///   second it must keep up `minBodyRate` bytes a second on average, or it is cut.
/// - `handling`: the request is being answered, or its answer sent. No deadline of ours (the
///   idle timeout of libmicrohttpd still applies to a client that stops reading).
/// - `cut`: the sweeper has ended it; libmicrohttpd has yet to notice and report it closed.
struct ConnectionTable {
    /// A libmicrohttpd connection, by the address of its handle (unique while it is open).
    typealias Key = UInt

    enum Phase: Equatable {
        case head(since: UInt64)
        case idle
        case body(since: UInt64, bytes: Int)
        case handling
        case cut
    }

    /// Which deadline cut a connection: a metric label and a log word.
    enum Deadline: String, CaseIterable, Sendable {
        case header
        case body
    }

    /// Which limit refused a connection at accept: a metric label and a log word.
    enum Limit: String, CaseIterable, Sendable {
        case connections
        case perAddress = "per_address"
    }

    struct Connection {
        let socket: Int32
        let address: String
        var phase: Phase
    }

    /// A connection the sweeper must end: its socket (still libmicrohttpd's), its client and why.
    struct Overdue: Equatable {
        let socket: Int32
        let address: String
        let deadline: Deadline
    }

    /// The head's deadline, in nanoseconds.
    let headerTimeout: UInt64
    /// Bytes a second a body must average after its first second; 0 for no floor.
    let minBodyRate: Int
    let connectionLimit: Int
    /// 0 for no limit.
    let perAddressLimit: Int
    private(set) var connections: [Key: Connection] = [:]
    private var perAddress: [String: Int] = [:]

    init(headerTimeoutSeconds: Int, minBodyRate: Int, connectionLimit: Int, perAddressLimit: Int) {
        self.headerTimeout = UInt64(max(0, headerTimeoutSeconds)) * 1_000_000_000
        self.minBodyRate = minBodyRate
        self.connectionLimit = connectionLimit
        self.perAddressLimit = perAddressLimit
    }

    var count: Int { connections.count }

    /// The limit a new connection from `address` would break, or nil to take it.
    func refusal(for address: String) -> Limit? {
        if connections.count >= connectionLimit { return .connections }
        if perAddressLimit > 0, perAddress[address, default: 0] >= perAddressLimit { return .perAddress }
        return nil
    }

    mutating func opened(_ key: Key, socket: Int32, address: String, at now: UInt64) {
        if let previous = connections.updateValue(
            Connection(socket: socket, address: address, phase: .head(since: now)), forKey: key)
        {
            release(previous.address)
        }
        perAddress[address, default: 0] += 1
    }

    mutating func closed(_ key: Key) {
        guard let connection = connections.removeValue(forKey: key) else { return }
        release(connection.address)
    }

    /// The request line and headers are complete; the body (if any) is read next.
    mutating func headComplete(_ key: Key, at now: UInt64) {
        update(key) { phase in
            switch phase {
            case .head, .idle: phase = .body(since: now, bytes: 0)
            case .body, .handling, .cut: break
            }
        }
    }

    mutating func bodyReceived(_ key: Key, bytes: Int) {
        update(key) { phase in
            if case .body(let since, let received) = phase { phase = .body(since: since, bytes: received + bytes) }
        }
    }

    /// The whole request is in (or is answered without reading the rest).
    mutating func handling(_ key: Key) {
        update(key) { phase in
            if phase != .cut { phase = .handling }
        }
    }

    /// The response was sent: a kept-alive connection now waits, idle, for its next request.
    mutating func requestEnded(_ key: Key) {
        update(key) { phase in
            if phase != .cut { phase = .idle }
        }
    }

    /// The connections past a deadline at `now`, each marked cut so that it is handed out once.
    mutating func takeOverdue(at now: UInt64) -> [Overdue] {
        var overdue: [Overdue] = []
        for (key, connection) in connections {
            let deadline: Deadline?
            switch connection.phase {
            case .head(let since): deadline = now > since && now - since > headerTimeout ? .header : nil
            case .body(let since, let bytes): deadline = isTooSlow(since: since, bytes: bytes, now: now) ? .body : nil
            case .idle, .handling, .cut: deadline = nil
            }
            guard let deadline else { continue }
            connections[key]?.phase = .cut
            overdue.append(Overdue(socket: connection.socket, address: connection.address, deadline: deadline))
        }
        return overdue
    }

    /// Whether a body read since `since` with `bytes` so far is under the floor: the first second is
    /// free, and from then on it must average `minBodyRate` over the time after that second.
    private func isTooSlow(since: UInt64, bytes: Int, now: UInt64) -> Bool {
        guard minBodyRate > 0, now > since else { return false }
        let elapsed = now - since
        guard elapsed > 1_000_000_000 else { return false }
        let owed = Double(minBodyRate) * Double(elapsed - 1_000_000_000) / 1e9
        return Double(bytes) < owed
    }

    private mutating func update(_ key: Key, _ change: (inout Phase) -> Void) {
        guard var connection = connections[key] else { return }
        change(&connection.phase)
        connections[key] = connection
    }

    private mutating func release(_ address: String) {
        let left = perAddress[address, default: 1] - 1
        perAddress[address] = left > 0 ? left : nil
    }
}
