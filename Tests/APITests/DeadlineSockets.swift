import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// Many raw client connections that send the start of a request and then trickle one byte at a
/// time, from a thread of their own; it notes which the server has closed, and which got a 408.
final class TricklingClients: Sendable {
    private struct State {
        var open: [Int32] = []
        var closed = 0
        var answered408 = 0
        var stop = false
    }

    private let state = NIOLockedValueBox(State())
    let connected: Int

    /// Opens `perAddress` connections from each of `addresses` to 127.0.0.1:`port`, each sending
    /// `start`, then (on a thread) one byte of `trickle` to each every `interval` until it is closed.
    init(port: Int, addresses: [String], perAddress: Int, start: String, trickle: UInt8, interval: TimeInterval) {
        var sockets: [Int32] = []
        for address in addresses {
            for _ in 0..<perAddress {
                guard let socket = Self.connect(port: port, from: address) else { continue }
                Self.send(socket, Array(start.utf8))
                sockets.append(socket)
            }
        }
        connected = sockets.count
        state.withLockedValue { $0.open = sockets }
        let state = self.state
        Thread {
            while true {
                let open = state.withLockedValue { $0.stop ? nil : $0.open }
                guard let open, !open.isEmpty else { break }
                var closed: [Int32] = []
                var answered = 0
                for socket in open {
                    switch Self.check(socket) {
                    case .open: Self.send(socket, [trickle])
                    case .closed(let saw408):
                        closed.append(socket)
                        if saw408 { answered += 1 }
                    }
                }
                state.withLockedValue { state in
                    state.open.removeAll { closed.contains($0) }
                    state.closed += closed.count
                    state.answered408 += answered
                }
                for socket in closed { _ = Glibc.close(socket) }
                // The trickle's pace, not a wait for anything.
                Thread.sleep(forTimeInterval: interval)
            }
        }.start()
    }

    var openCount: Int { state.withLockedValue { $0.open.count } }
    var closedCount: Int { state.withLockedValue { $0.closed } }
    var answered408: Int { state.withLockedValue { $0.answered408 } }

    /// Stops the trickle and closes what is still open.
    func finish() {
        let open = state.withLockedValue { state in
            state.stop = true
            defer { state.open = [] }
            return state.open
        }
        for socket in open { _ = Glibc.close(socket) }
    }

    private enum Check {
        case open
        case closed(saw408: Bool)
    }

    /// Reads what the server sent, without waiting: closed once it reads the end or an error.
    private static func check(_ socket: Int32) -> Check {
        var buffer = [UInt8](repeating: 0, count: 1_024)
        var saw408 = false
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                if String(decoding: buffer.prefix(count), as: UTF8.self).hasPrefix("HTTP/1.1 408") { saw408 = true }
                continue
            }
            if count < 0, errno == EAGAIN || errno == EWOULDBLOCK { return saw408 ? .closed(saw408: true) : .open }
            return .closed(saw408: saw408)
        }
    }

    static func send(_ socket: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// A blocking TCP connection to 127.0.0.1:`port` from the loopback address `source`.
    static func connect(port: Int, from source: String) -> Int32? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return nil }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = in_port_t(UInt16(port).bigEndian)
        remote.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, connected == 0 else {
            _ = Glibc.close(socket)
            return nil
        }
        return socket
    }
}
