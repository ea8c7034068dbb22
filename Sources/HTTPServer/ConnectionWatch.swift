import CoreMetrics
import Dispatch
import Logging
import NIOConcurrencyHelpers

/// Keeps the HTTP server reachable under slow or greedy clients: refuses connections over the
/// limits at accept, and cuts those that miss a deadline (see `ConnectionTable`), with a 408
/// when the socket still takes one. Counts both in the metrics, and logs once per episode when the
/// deadlines are cutting many connections.
///
/// The table and the cutting share one lock, and libmicrohttpd reports a connection closed before
/// it closes its socket: so a socket is only ever cut while it still belongs to its connection,
/// never after its descriptor has been reused.
final class ConnectionWatch: Sendable {
    private struct State {
        var table: ConnectionTable
        var episodes = DeadlineEpisodes()
        /// Set once the daemon is stopping: nothing more is cut.
        var stopped = false
    }

    private let state: NIOLockedValueBox<State>
    /// Ends a connection's socket, writing the 408 first if it can; called with the lock held.
    private let cut: @Sendable (Int32, ConnectionTable.Deadline) -> Void
    private let logger: Logger
    private let open: CoreMetrics.Gauge
    private let closedBy: [ConnectionTable.Deadline: CoreMetrics.Counter]
    private let refusedBy: [ConnectionTable.Limit: CoreMetrics.Counter]

    init(
        configuration: HTTPServerConfiguration, metrics: any MetricsFactory, metricsPrefix: String, logger: Logger,
        cut: @escaping @Sendable (Int32, ConnectionTable.Deadline) -> Void
    ) {
        state = NIOLockedValueBox(
            State(
                table: ConnectionTable(
                    headerTimeoutSeconds: configuration.headerTimeoutSeconds, minBodyRate: configuration.minBodyRate,
                    connectionLimit: configuration.connectionLimit,
                    perAddressLimit: configuration.perIPConnectionLimit)))
        self.cut = cut
        self.logger = logger
        open = CoreMetrics.Gauge(label: "\(metricsPrefix)_connections_open", factory: metrics)
        closedBy = Self.counters("\(metricsPrefix)_connections_closed_total", by: "deadline", metrics)
        refusedBy = Self.counters("\(metricsPrefix)_connections_refused_total", by: "limit", metrics)
        open.record(0)
    }

    /// One counter named `label` for each case of `Key`, told apart by the dimension `name`.
    private static func counters<Key: RawRepresentable & CaseIterable & Hashable>(
        _ label: String, by name: String, _ metrics: any MetricsFactory
    ) -> [Key: CoreMetrics.Counter] where Key.RawValue == String {
        Dictionary(
            uniqueKeysWithValues: Key.allCases.map {
                ($0, CoreMetrics.Counter(label: label, dimensions: [(name, $0.rawValue)], factory: metrics))
            })
    }

    private static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Whether to take a new connection from `address`; a refusal is counted. Several threads may
    /// accept at once, so the limit may be passed by up to one connection per thread.
    func admits(_ address: String) -> Bool {
        guard let limit = state.withLockedValue({ $0.table.refusal(for: address) }) else { return true }
        refusedBy[limit]?.increment()
        return false
    }

    func opened(_ key: ConnectionTable.Key, socket: Int32, address: String) {
        let now = Self.now
        state.withLockedValue { state in
            state.table.opened(key, socket: socket, address: address, at: now)
            open.record(state.table.count)
        }
    }

    func closed(_ key: ConnectionTable.Key) {
        state.withLockedValue { state in
            state.table.closed(key)
            open.record(state.table.count)
        }
    }

    func headComplete(_ key: ConnectionTable.Key) {
        let now = Self.now
        state.withLockedValue { $0.table.headComplete(key, at: now) }
    }

    func bodyReceived(_ key: ConnectionTable.Key, bytes: Int) {
        state.withLockedValue { $0.table.bodyReceived(key, bytes: bytes) }
    }

    func handling(_ key: ConnectionTable.Key) { state.withLockedValue { $0.table.handling(key) } }

    func requestEnded(_ key: ConnectionTable.Key) { state.withLockedValue { $0.table.requestEnded(key) } }

    /// Cuts the connections past a deadline now, counts them and logs an episode's start or end.
    func sweep() {
        let now = Self.now
        let (overdue, report, window): ([ConnectionTable.Overdue], DeadlineEpisodes.Report?, UInt64) =
            state.withLockedValue { state in
                guard !state.stopped else { return ([], nil, 0) }
                let overdue = state.table.takeOverdue(at: now)
                for connection in overdue { cut(connection.socket, connection.deadline) }
                let report = state.episodes.record(overdue.map(\.address), at: now)
                return (overdue, report, state.episodes.window / 1_000_000_000)
            }
        for connection in overdue { closedBy[connection.deadline]?.increment() }
        switch report {
        case .started(let count, let top):
            logger.warning(
                "deadlines are closing many connections",
                metadata: [
                    "connections.closed": "\(count)", "window.s": "\(window)",
                    "client.top": "\(Self.describe(top))",
                ])
        case .ended(let total, let top):
            logger.notice(
                "deadlines stopped closing many connections",
                metadata: ["connections.closed": "\(total)", "client.top": "\(Self.describe(top))"])
        case nil: break
        }
    }

    /// Sweeps four times a second until cancelled.
    func run() async {
        while !Task.isCancelled {
            sweep()
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Cuts nothing more: the daemon is about to stop and close every socket.
    func stop() { state.withLockedValue { $0.stopped = true } }

    private static func describe(_ top: [DeadlineEpisodes.AddressCount]) -> String {
        top.map { "\($0.address) \($0.count)" }.joined(separator: ", ")
    }

    /// `response` as HTTP/1.1 bytes, closing the connection: for a socket written outside libmicrohttpd.
    static func wire(_ response: HTTPResponse, reason: String) -> [UInt8] {
        var head = "HTTP/1.1 \(response.status) \(reason)\r\nConnection: close\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(response.body.count)\r\n\r\n"
        return Array(head.utf8) + response.body
    }
}
