import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A real HTTPS server on 127.0.0.1 (an ephemeral port), SwiftNIO with NIOSSL, serving one
/// certificate chain. Its behaviour is chosen by the path:
///
/// - `/ok/NAME` → 200 with body `ok NAME`
/// - `/to/BASE64URL` → 302 to the URL inside (`TLSTargetServer.redirect(to:)` makes the path)
/// - a `POST` to any other path → 204 (a webhook receiver)
///
/// It keeps every request it answered and counts the connections it accepted (a handshake that
/// fails is one connection and no request). `resettingHandshakes()` makes one that resets every
/// connection before its handshake instead, and `speakingPlainHTTP()` one that answers every
/// connection with a plain-text HTTP response, at once and without reading.
public final class TLSTargetServer: Sendable {
    /// One request it answered.
    public struct Request: Sendable {
        public let method: String
        public let path: String
        public let headers: [String: String]
    }

    /// What it does with a connection.
    private enum Mode: Sendable {
        case tls(NIOSSLContext)
        case reset
        case plainHTTP
    }

    private struct Record {
        var connections = 0
        var requests: [Request] = []
    }

    private let channel: any Channel
    private let record: NIOLockedValueBox<Record>
    public let port: Int
    public var baseURL: String { "https://127.0.0.1:\(port)" }

    /// Serves `identity` until `stop()`.
    public convenience init(serving identity: TestCertificates.Identity) async throws {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(identity.chain).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: identity.key, format: .pem)))
        try await self.init(mode: .tls(try NIOSSLContext(configuration: configuration)))
    }

    /// A server that accepts each connection and resets it at once, before any handshake.
    public static func resettingHandshakes() async throws -> TLSTargetServer {
        try await TLSTargetServer(mode: .reset)
    }

    /// A server that speaks no TLS: it writes `HTTP/1.1 400 Bad Request` on each connection and
    /// leaves it open, so a client's handshake reads that answer, never a reset or a close.
    public static func speakingPlainHTTP() async throws -> TLSTargetServer {
        try await TLSTargetServer(mode: .plainHTTP)
    }

    private init(mode: Mode) async throws {
        let record = NIOLockedValueBox(Record())
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                record.withLockedValue { $0.connections += 1 }
                let context: NIOSSLContext
                switch mode {
                case .tls(let tls): context = tls
                case .reset:
                    // SO_LINGER 0: close sends a reset, not a FIN.
                    let lingering = (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
                    return (lingering ?? channel.eventLoop.makeSucceededVoidFuture()).flatMap { channel.close() }
                case .plainHTTP:
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(PlainAnswer())
                    }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Responder(record: record))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.channel = channel
        self.record = record
        self.port = channel.localAddress?.port ?? 0
    }

    public func stop() async { try? await channel.close() }

    /// Connections accepted so far.
    public var connections: Int { record.withLockedValue { $0.connections } }

    /// Requests answered so far, in order.
    public var requests: [Request] { record.withLockedValue { $0.requests } }

    /// Requests answered for `path`.
    public func requests(_ path: String) -> Int { requests.filter { $0.path == path }.count }

    /// The path of this server (or `TargetServer`) that redirects to `url`.
    public static func redirect(to url: String) -> String {
        "/to/"
            + Data(url.utf8).base64EncodedString().replacing("+", with: "-").replacing("/", with: "_")
            .replacing("=", with: "")
    }

    /// The URL inside a `/to/BASE64URL` path's last part.
    static func redirectTarget(_ encoded: String) -> String? {
        var base64 = encoded.replacing("-", with: "+").replacing("_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes a plain-text HTTP answer as soon as the connection is up, and reads nothing.
    private final class PlainAnswer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        func channelActive(context: ChannelHandlerContext) {
            let answer = "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n"
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: answer)), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    }

    /// Answers each request once it has arrived whole.
    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let record: NIOLockedValueBox<Record>
        private var head: HTTPRequestHead?

        init(record: NIOLockedValueBox<Record>) { self.record = record }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): self.head = head
            case .body: break
            case .end:
                guard let head else { return }
                self.head = nil
                respond(to: head, context: context)
            }
        }

        private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
            let path = String(head.uri.prefix { $0 != "?" })
            record.withLockedValue {
                $0.requests.append(
                    Request(
                        method: head.method.rawValue, path: path,
                        headers: Dictionary(head.headers.map { ($0.name.lowercased(), $0.value) }) { first, _ in first }
                    ))
            }
            let parts = path.split(separator: "/").map(String.init)
            var headers = HTTPHeaders()
            var status = HTTPResponseStatus.notFound
            var body = "no such path"
            if parts.count == 2, parts[0] == "ok" {
                status = .ok
                body = "ok \(parts[1])"
            } else if parts.count == 2, parts[0] == "to", let target = TLSTargetServer.redirectTarget(parts[1]) {
                status = .found
                body = ""
                headers.add(name: "location", value: target)
            } else if head.method == .POST {
                status = .noContent
                body = ""
            }
            if status != .noContent {
                headers.add(name: "content-type", value: "text/plain")
                headers.add(name: "content-length", value: "\(body.utf8.count)")
            }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                promise: nil)
            if !body.isEmpty {
                context.write(
                    wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
