import NIOCore
import NIOHTTP1

/// Keeps the bytes of response header values that are not UTF-8 (RFC 9110's obs-text, such as a
/// Latin-1 `caf\xE9`): NIOHTTP1's decoder turns each such byte into U+FFFD, so the value sent is
/// lost. These handlers read those values again from the raw head as ISO-8859-1, byte for byte,
/// as Python's and Node's clients do; values that are UTF-8 stay as the decoder read them.
///
/// `RawHeadRecorder` sits before the decoder and keeps the bytes of the response head under way
/// (slices of the buffers read, not copies), noting whether any byte is past ASCII.
/// `ObsTextHeadRewriter` sits after it; only when the recorder saw such a byte does it parse the
/// head's lines again and replace the head's headers. HTTP/1.1 here has one request in flight per
/// connection, so the bytes read after a request was written start with the answer's head.
enum ObsTextHeaders {
    /// Adds both handlers around `channel`'s HTTP/1 response decoder; succeeds without them if the
    /// channel has none.
    static func install(on channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.submit { _ = try install(on: channel, head: RawHead()) }
    }

    /// Adds the handlers, sharing `head`, on the channel's event loop; false if it has no decoder.
    static func install(on channel: any Channel, head: RawHead) throws -> Bool {
        let pipeline = channel.pipeline.syncOperations
        guard let decoder = try? pipeline.context(handlerType: ByteToMessageHandler<HTTPResponseDecoder>.self)
        else { return false }
        try pipeline.addHandler(RawHeadRecorder(head), position: .before(decoder.handler))
        try pipeline.addHandler(ObsTextHeadRewriter(head), position: .after(decoder.handler))
        return true
    }

    /// The status code and header lines of a raw head, each value's bytes read as UTF-8 when
    /// they are UTF-8 and as ISO-8859-1 otherwise; nil if the status line is not one.
    static func parse(rawHead bytes: [UInt8]) -> (status: Int, fields: [(String, String)])? {
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            line.last == UInt8(ascii: "\r") ? line.dropLast() : line
        }
        guard let statusLine = lines.first, statusLine.starts(with: "HTTP/".utf8),
            let space = statusLine.firstIndex(of: 0x20),
            let status = Int(String(decoding: statusLine[(space + 1)...].prefix(3), as: UTF8.self))
        else { return nil }
        var fields: [(String, String)] = []
        for line in lines.dropFirst() {
            guard !line.isEmpty else { break }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = String(decoding: line[..<colon], as: UTF8.self)
            let value = line[line.index(after: colon)...].drop { $0 == 0x20 || $0 == 0x09 }
            let trimmed = value.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
            fields.append((name, text(Array(trimmed))))
        }
        return (status, fields)
    }

    /// `bytes` as UTF-8 if they are, else as ISO-8859-1 (every byte the code point of its value).
    static func text(_ bytes: [UInt8]) -> String {
        if let utf8 = String(validating: bytes, as: UTF8.self) { return utf8 }
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }
}

/// The raw bytes of the response head under way, shared by the two handlers of one connection
/// (both run on its event loop).
final class RawHead {
    /// Whether the head's end was seen; then nothing more is kept until the next request is written.
    var complete = false
    var slices: [ByteBuffer] = []
    var pastASCII = false
    var kept = 0
    /// The last four bytes read, for an end of the head split across two reads.
    var window: UInt32 = 0
    /// A head longer than this is not kept (the decoder refuses much less).
    static let limit = 80 * 1024

    func startOver() {
        complete = false
        slices.removeAll(keepingCapacity: true)
        pastASCII = false
        kept = 0
        window = 0
    }

    /// The bytes kept, as one array.
    var bytes: [UInt8] { slices.reduce(into: []) { $0.append(contentsOf: $1.readableBytesView) } }

    /// Keeps `buffer`'s bytes up to the end of the head (an empty line: CRLF CRLF, or LF LF as
    /// decoders allow).
    func record(_ buffer: ByteBuffer) {
        var window = self.window
        var pastASCII = false
        let end: Int? = buffer.withUnsafeReadableBytes { raw in
            for index in raw.indices {
                let byte = raw[index]
                window = window << 8 | UInt32(byte)
                if byte >= 0x80 { pastASCII = true }
                if byte == 0x0A && (window & 0xFFFF == 0x0A0A || window == 0x0D0A_0D0A) { return index + 1 }
            }
            return nil
        }
        self.window = window
        self.pastASCII = self.pastASCII || pastASCII
        if let end {
            slices.append(buffer.getSlice(at: buffer.readerIndex, length: end) ?? buffer)
            complete = true
        } else {
            slices.append(buffer)
            kept += buffer.readableBytes
        }
    }
}

/// Keeps the bytes of each response head as they pass to the decoder. See `ObsTextHeaders`. It
/// sits between the request encoder and the response decoder, so requests pass it as parts.
final class RawHeadRecorder: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private let head: RawHead

    init(_ head: RawHead) { self.head = head }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !head.complete, head.kept < RawHead.limit { head.record(unwrapInboundIn(data)) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if head.complete { head.startOver() }
        context.write(data, promise: promise)
    }
}

/// Replaces a decoded head's headers with the values read again from its raw bytes, when these
/// have a byte past ASCII. See `ObsTextHeaders`.
final class ObsTextHeadRewriter: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias InboundOut = HTTPClientResponsePart

    private let head: RawHead

    init(_ head: RawHead) { self.head = head }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A head kept that is not this one (an interim 1xx head read before the final one) has
        // another status: then the head stays as decoded.
        guard head.pastASCII, head.complete, case .head(var response) = unwrapInboundIn(data),
            let raw = ObsTextHeaders.parse(rawHead: head.bytes), raw.status == Int(response.status.code),
            raw.fields.count == response.headers.count
        else { return context.fireChannelRead(data) }
        response.headers = HTTPHeaders(raw.fields)
        context.fireChannelRead(wrapInboundOut(.head(response)))
    }
}
