import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP server on 127.0.0.1 (an ephemeral port) that breaks HTTP on purpose, for the errors a
/// fetch can meet: it reads the request, then closes the connection, resets it, or answers bytes
/// that are not HTTP.
public final class RawTCPServer: Sendable {
    public enum Behaviour: Sendable {
        /// Closes the connection (FIN) once the request has arrived, answering nothing.
        case closeAfterRequest
        /// Resets the connection (RST) once the request has arrived.
        case resetAfterRequest
        /// Answers a line that is not an HTTP status line, and closes.
        case answerGarbage
        /// Answers these bytes (a whole response, written by hand), and closes.
        case answer([UInt8])
    }

    private let channel: any Channel
    public var port: Int { channel.localAddress?.port ?? 0 }
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public init(_ behaviour: Behaviour) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Breaker(behaviour: behaviour))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    public func stop() async {
        try? await channel.close()
    }

    private final class Breaker: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let behaviour: Behaviour

        init(behaviour: Behaviour) { self.behaviour = behaviour }

        private func answer(_ bytes: [UInt8], context: ChannelHandlerContext) {
            let buffer = context.channel.allocator.buffer(bytes: bytes)
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in context.close(promise: nil) }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch behaviour {
            case .closeAfterRequest:
                context.close(promise: nil)
            case .resetAfterRequest:
                // Lingering for zero seconds makes close send RST instead of FIN.
                guard let socket = context.channel as? any SocketOptionProvider else {
                    return context.close(promise: nil)
                }
                socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in
                    context.close(promise: nil)
                }
            case .answerGarbage:
                answer(Array("SPEAK FRIEND AND ENTER\r\n\r\n".utf8), context: context)
            case .answer(let bytes):
                answer(bytes, context: context)
            }
        }
    }
}
