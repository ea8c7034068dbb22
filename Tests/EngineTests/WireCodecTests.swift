import Engine
import Store
import TestSupport
import Testing

/// The supervisor–worker framing: every message survives a round trip, and bad bytes are refused
/// with a `WireError`, never a crash.
@Suite struct WireCodecTests {
    static let orders: [Order] = [
        .fetch(
            FetchOrder(
                lease: LeaseKey(seq: 1, attempt: 1), url: "http://a.example/x?q=1", method: "GET", headers: [],
                body: nil, timeoutMillis: 30_000, maxBodyBytes: 1 << 20)),
        .fetch(
            FetchOrder(
                lease: LeaseKey(seq: .max, attempt: 7), url: "https://b.example/ünï", method: "PUT",
                headers: [HeaderField("X-A", "1"), HeaderField("x-a", "2, 3"), HeaderField("Empty", "")],
                body: Array(0...255), timeoutMillis: 1, maxBodyBytes: 0)),
        .fetch(
            FetchOrder(
                lease: LeaseKey(seq: 0, attempt: 0), url: "", method: "POST", headers: [HeaderField("", "")],
                body: [], timeoutMillis: -1, maxBodyBytes: .max)),
        .cancel(LeaseKey(seq: 42, attempt: 3)),
        .handBack,
    ]

    static let reports: [Report] =
        [
            .result(
                FetchResult(
                    lease: LeaseKey(seq: 1, attempt: 1), statusCode: 200,
                    headers: [HeaderField("Content-Type", "text/plain"), HeaderField("Set-Cookie", "a=1")],
                    body: Array("hello".utf8), durationMillis: 12)),
            .result(
                FetchResult(
                    lease: LeaseKey(seq: 2, attempt: 3), statusCode: 503, body: Array(repeating: 0xFF, count: 1_000),
                    bodyTruncated: true, durationMillis: 0)),
            .result(
                FetchResult(
                    lease: LeaseKey(seq: 3, attempt: 1), durationMillis: 30_000,
                    failure: FetchFailure(.timeout, "the request took longer than 30000 ms"))),
            .unstarted(LeaseKey(seq: 5, attempt: 2)),
        ]
        + FetchFailure.Kind.allCases.map { kind in
            .result(
                FetchResult(lease: LeaseKey(seq: 4, attempt: 2), durationMillis: 1, failure: FetchFailure(kind, "")))
        }

    @Test(arguments: orders) func everyOrderSurvivesARoundTrip(_ order: Order) throws {
        var buffer: [UInt8] = []
        WireCodec.encode(order, into: &buffer)
        let payloads = try frames(buffer)
        #expect(payloads.count == 1)
        #expect(try WireCodec.decodeOrder(try #require(payloads.first)) == order)
    }

    @Test(arguments: reports) func everyReportSurvivesARoundTrip(_ report: Report) throws {
        var buffer: [UInt8] = []
        WireCodec.encode(report, into: &buffer)
        let payloads = try frames(buffer)
        #expect(payloads.count == 1)
        #expect(try WireCodec.decodeReport(try #require(payloads.first)) == report)
    }

    @Test func framesAreSplitWhereverTheBytesArriveInPieces() throws {
        var stream: [UInt8] = []
        for order in Self.orders { WireCodec.encode(order, into: &stream) }
        for chunk in [1, 3, 7, 64, stream.count] {
            var buffer: [UInt8] = []
            var decoded: [Order] = []
            for start in stride(from: 0, to: stream.count, by: chunk) {
                buffer += stream[start..<min(start + chunk, stream.count)]
                try WireCodec.drainFrames(&buffer) { decoded.append(try WireCodec.decodeOrder($0)) }
            }
            #expect(decoded == Self.orders)
            #expect(buffer.isEmpty)
        }
    }

    @Test func aFrameOverTheLimitIsRefused() {
        let length = UInt32(WireCodec.maxPayload + 1)
        var buffer: [UInt8] = [
            UInt8(length >> 24), UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8),
            UInt8(truncatingIfNeeded: length),
        ]
        #expect(throws: WireError.self) { try WireCodec.drainFrames(&buffer) { _ in } }
    }

    @Test func messagesGoingTheWrongWayOrInAnotherVersionAreRefused() throws {
        for order in Self.orders {
            let payload = try payload(of: order)
            #expect(throws: WireError.self) { try WireCodec.decodeReport(payload) }
            var other = payload
            other[other.startIndex] = WireCodec.version &+ 1
            #expect(throws: WireError.self) { try WireCodec.decodeOrder(other) }
        }
        for report in Self.reports {
            let payload = try payload(of: report)
            #expect(throws: WireError.self) { try WireCodec.decodeOrder(payload) }
        }
        #expect(throws: WireError.self) { try WireCodec.decodeOrder([]) }
        #expect(throws: WireError.self) { try WireCodec.decodeReport([WireCodec.version, 99]) }
    }

    @Test func everyTruncatedMessageIsRefused() throws {
        for order in Self.orders {
            let payload = try payload(of: order)
            for end in payload.indices {
                #expect(throws: WireError.self) { try WireCodec.decodeOrder(payload[..<end]) }
            }
        }
        for report in Self.reports {
            let payload = try payload(of: report)
            for end in payload.indices {
                #expect(throws: WireError.self) { try WireCodec.decodeReport(payload[..<end]) }
            }
        }
    }

    /// Flips, overwrites, drops and inserts bytes at random: decoding either yields a message or
    /// throws a `WireError`; it never crashes or reads past the end.
    @Test func corruptedBytesNeverCrashTheDecoder() throws {
        var random = SeededRandom(seed: 0x5EED)
        let valid = try Self.orders.map(payload(of:)) + Self.reports.map(payload(of:))
        var refused = 0
        for round in 0..<5_000 {
            var bytes = Array(valid[round % valid.count])
            for _ in 0...Int.random(in: 0..<4, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[index] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
                case 1: bytes[index] = [0x00, 0xFF, 0x7F, 0x80].randomElement(using: &random) ?? 0
                case 2 where bytes.count > 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: index)
                }
            }
            // Keep the version byte most of the time, so the fields behind it get exercised.
            if round % 8 != 0 { bytes[0] = WireCodec.version }
            do { _ = try WireCodec.decodeOrder(bytes[...]) } catch { refused += 1 }
            do { _ = try WireCodec.decodeReport(bytes[...]) } catch { refused += 1 }
            var framed = bytes
            _ = try? WireCodec.drainFrames(&framed) { payload in _ = try? WireCodec.decodeReport(payload) }
        }
        #expect(refused >= 5_000)
    }

    @Test func randomGarbageNeverCrashesTheDecoder() {
        var random = SeededRandom(seed: 42)
        for _ in 0..<5_000 {
            let count = Int.random(in: 0..<64, using: &random)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            if !bytes.isEmpty { bytes[0] = WireCodec.version }
            if bytes.count > 1 { bytes[1] = UInt8.random(in: 1...3, using: &random) }
            _ = try? WireCodec.decodeOrder(bytes[...])
            _ = try? WireCodec.decodeReport(bytes[...])
            _ = try? WireCodec.drainFrames(&bytes) { _ in }
        }
    }

    private func frames(_ buffer: [UInt8]) throws -> [ArraySlice<UInt8>] {
        var buffer = buffer
        var payloads: [ArraySlice<UInt8>] = []
        try WireCodec.drainFrames(&buffer) { payloads.append(ArraySlice(Array($0))) }
        #expect(buffer.isEmpty)
        return payloads
    }

    private func payload(of order: Order) throws -> ArraySlice<UInt8> {
        var buffer: [UInt8] = []
        WireCodec.encode(order, into: &buffer)
        return try #require(try frames(buffer).first)
    }

    private func payload(of report: Report) throws -> ArraySlice<UInt8> {
        var buffer: [UInt8] = []
        WireCodec.encode(report, into: &buffer)
        return try #require(try frames(buffer).first)
    }
}
