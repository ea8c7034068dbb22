import NIOCore

/// Decides which addresses fetchq may connect to. By default it refuses every destination inside
/// someone's network — loopback, private (RFC 1918), carrier-grade NAT, link-local (including the
/// 169.254.169.254 metadata service), unique-local and link-local IPv6, unspecified, multicast,
/// broadcast and reserved — so that fetchq cannot be used as a proxy into the network it runs in.
/// IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4 address inside them.
public struct DestinationGuard: Sendable {
    /// A block of addresses, `10.1.0.0/16` or `fd00::/8`.
    public struct CIDR: Sendable, Equatable, CustomStringConvertible {
        let bytes: [UInt8]
        let prefix: Int

        public init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let address = parts.first, let bytes = DestinationGuard.parse(String(address)) else { return nil }
            let prefix = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
            guard let prefix, (0...(bytes.count * 8)).contains(prefix) else { return nil }
            self.bytes = bytes
            self.prefix = prefix
        }

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var remaining = prefix
            for index in bytes.indices where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if address[index] & mask != bytes[index] & mask { return false }
                remaining -= bits
            }
            return true
        }

        public var description: String {
            let text =
                bytes.count == 4
                ? bytes.map(String.init).joined(separator: ".")
                : stride(from: 0, to: 16, by: 2).map {
                    String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16)
                }
                .joined(separator: ":")
            return "\(text)/\(prefix)"
        }
    }

    static let blocked: [CIDR] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
        "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8", "2001:db8::/32",
    ].compactMap(CIDR.init)

    /// When true, nothing is refused (for fetching from local or private servers on purpose).
    public var allowPrivateTargets: Bool
    /// Ranges opened despite the rules above.
    public var allowed: [CIDR]

    public init(allowPrivateTargets: Bool = false, allowed: [CIDR] = []) {
        self.allowPrivateTargets = allowPrivateTargets
        self.allowed = allowed
    }

    /// The same guard as `fetchq worker` options.
    public var arguments: [String] {
        (allowPrivateTargets ? ["--allow-private-targets"] : []) + allowed.flatMap { ["--allow-cidr", "\($0)"] }
    }

    /// Whether a connection to this address (an IP literal) must be refused. A host name that is
    /// not an IP literal answers false here: it is checked at connect time, once resolved.
    public func refuses(_ host: String) -> Bool {
        guard !allowPrivateTargets, var bytes = Self.parse(host) else { return false }
        if bytes.count == 16 {
            // ::ffff:a.b.c.d (IPv4-mapped) and 64:ff9b::a.b.c.d (NAT64) carry an IPv4 address.
            let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
            let nat64 = bytes[0..<12].elementsEqual([0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0])
            if mapped || nat64 { bytes = Array(bytes[12...]) }
        }
        if allowed.contains(where: { $0.contains(bytes) }) { return false }
        return Self.blocked.contains { $0.contains(bytes) }
    }

    /// The address's bytes (4 or 16), when `text` is an IPv4 or IPv6 literal (brackets allowed).
    static func parse(_ text: String) -> [UInt8]? {
        let literal = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        guard let address = try? SocketAddress(ipAddress: literal, port: 0) else { return nil }
        switch address {
        case .v4(let v4):
            let value = UInt32(bigEndian: v4.address.sin_addr.s_addr)
            return [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) }
        case .v6(let v6):
            var storage = v6.address.sin6_addr
            return withUnsafeBytes(of: &storage) { Array($0) }
        default:
            return nil
        }
    }

    /// For AsyncHTTPClient's connection hook: fails (and closes) a connection whose peer is refused.
    /// Runs after DNS and connect, so it sees the address actually used — for every redirect hop and
    /// every address a name resolves to.
    @Sendable public func check(_ channel: any Channel) -> EventLoopFuture<Void> {
        guard let address = channel.remoteAddress?.ipAddress, refuses(address) else {
            return channel.eventLoop.makeSucceededVoidFuture()
        }
        channel.close(promise: nil)
        return channel.eventLoop.makeFailedFuture(BlockedDestination(address: address))
    }
}

/// A connection was refused by the `DestinationGuard`.
public struct BlockedDestination: Error, CustomStringConvertible {
    public let address: String
    public var description: String {
        "the destination \(address) is in a private or reserved range; fetchq does not connect there "
            + "(see --allow-private-targets and --allow-cidr)"
    }
}
