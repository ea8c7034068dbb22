import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import Engine

/// The raw head kept beside NIOHTTP1's decoder, and the values read again from it.
@Suite struct ObsTextHeadersTests {
    /// The handlers around the decoder, as `ObsTextHeaders.install` places them in AsyncHTTPClient's
    /// pipeline (encoder, decoder, client handler).
    private func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let head = RawHead()
        try channel.pipeline.syncOperations.addHandlers([
            HTTPRequestEncoder(), ByteToMessageHandler(HTTPResponseDecoder()),
        ])
        #expect(try ObsTextHeaders.install(on: channel, head: head) == true)
        return channel
    }

    private func send(_ channel: EmbeddedChannel) throws {
        var request = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
        request.headers.add(name: "host", value: "a")
        try channel.writeOutbound(HTTPClientRequestPart.head(request))
        try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        while try channel.readOutbound(as: IOData.self) != nil {}
    }

    private func head(_ channel: EmbeddedChannel) throws -> HTTPResponseHead? {
        while let part = try channel.readInbound(as: HTTPClientResponsePart.self) {
            if case .head(let head) = part { return head }
        }
        return nil
    }

    @Test func aHeadSplitAcrossReadsOnAKeptAliveConnectionIsReadAgainEachTime() throws {
        let channel = try channel()
        for value: UInt8 in [0xE9, 0xFC] {
            try send(channel)
            let bytes =
                Array("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Name: caf".utf8) + [value] + Array("\r\n\r\nabc".utf8)
            // The empty line that ends the head is cut in two.
            let cut = bytes.count - 5
            try channel.writeInbound(ByteBuffer(bytes: bytes[..<cut]))
            try channel.writeInbound(ByteBuffer(bytes: bytes[cut...]))
            let head = try #require(try head(channel))
            #expect(head.headers["x-name"] == ["caf" + String(Unicode.Scalar(value))])
            #expect(head.headers["content-length"] == ["3"])
        }
        _ = try channel.finish()
    }

    @Test func anASCIIHeadIsLeftAsDecoded() throws {
        let channel = try channel()
        try send(channel)
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 204 No Content\r\nX-A: 1\r\nX-A: 2\r\n\r\n"))
        let head = try #require(try head(channel))
        #expect(head.headers["x-a"] == ["1", "2"])
        _ = try channel.finish()
    }

    @Test func valuesAreUTF8WhenTheyAreAndLatinOneOtherwise() {
        #expect(ObsTextHeaders.text(Array("caf\u{E9}".utf8)) == "caf\u{E9}")
        #expect(ObsTextHeaders.text([0x63, 0xE9, 0xFF]) == "c\u{E9}\u{FF}")
        let parsed = ObsTextHeaders.parse(rawHead: Array("HTTP/1.1 404 Nope\r\nA:\t x \r\nB:\r\n\r\n".utf8))
        #expect(parsed?.status == 404)
        #expect(parsed?.fields.map { "\($0.0)=\($0.1)" } == ["A=x", "B="])
        #expect(ObsTextHeaders.parse(rawHead: Array("SPEAK\r\n\r\n".utf8)) == nil)
    }
}
