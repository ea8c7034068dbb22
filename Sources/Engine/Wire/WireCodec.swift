import Store

/// The framing between supervisor and workers: each message is a 4-byte big-endian payload length,
/// then the payload: a version byte, a kind byte, and the fields in a fixed order (integers
/// big-endian, strings and byte strings length-prefixed). Binary rather than JSON because this
/// path carries every task twice and JSON coding dominated it when profiled.
public enum WireCodec {
    public static let version: UInt8 = 2
    /// Largest payload either side accepts (a request body plus a response body, with headroom).
    public static let maxPayload = 64 << 20

    private enum Kind: UInt8 {
        case fetch = 1
        case cancel = 2
        case result = 3
        case handBack = 4
        case unstarted = 5
    }

    // MARK: Encoding

    public static func encode(_ order: Order, into buffer: inout [UInt8]) {
        frame(into: &buffer) { writer in
            switch order {
            case .fetch(let fetch):
                writer.byte(Kind.fetch.rawValue)
                writer.lease(fetch.lease)
                writer.string(fetch.url)
                writer.string(fetch.method)
                writer.headers(fetch.headers)
                writer.optionalBytes(fetch.body)
                writer.int(fetch.timeoutMillis)
                writer.int(fetch.maxBodyBytes)
                writer.byte(fetch.decodeContent ? 1 : 0)
            case .cancel(let lease):
                writer.byte(Kind.cancel.rawValue)
                writer.lease(lease)
            case .handBack:
                writer.byte(Kind.handBack.rawValue)
            }
        }
    }

    public static func encode(_ report: Report, into buffer: inout [UInt8]) {
        frame(into: &buffer) { writer in
            switch report {
            case .result(let result):
                writer.byte(Kind.result.rawValue)
                writer.lease(result.lease)
                writer.int(result.statusCode ?? -1)
                writer.headers(result.headers)
                writer.bytes(result.body)
                writer.byte(result.bodyTruncated ? 1 : 0)
                writer.int(result.durationMillis)
                writer.string(result.failure?.kind.rawValue ?? "")
                writer.string(result.failure?.message ?? "")
                writer.string(result.decodedFrom ?? "")
            case .unstarted(let lease):
                writer.byte(Kind.unstarted.rawValue)
                writer.lease(lease)
            }
        }
    }

    private static func frame(into buffer: inout [UInt8], _ body: (inout Writer) -> Void) {
        let start = buffer.count
        buffer.append(contentsOf: [0, 0, 0, 0])
        var writer = Writer(buffer: buffer)
        buffer = []
        writer.byte(version)
        body(&writer)
        buffer = writer.buffer
        let length = UInt32(buffer.count - start - 4)
        buffer[start] = UInt8(truncatingIfNeeded: length >> 24)
        buffer[start + 1] = UInt8(truncatingIfNeeded: length >> 16)
        buffer[start + 2] = UInt8(truncatingIfNeeded: length >> 8)
        buffer[start + 3] = UInt8(truncatingIfNeeded: length)
    }

    // MARK: Decoding

    public static func decodeOrder(_ payload: ArraySlice<UInt8>) throws(WireError) -> Order {
        var reader = try Reader(payload: payload)
        switch try reader.kind() {
        case .fetch:
            return .fetch(
                FetchOrder(
                    lease: try reader.lease(), url: try reader.string(), method: try reader.string(),
                    headers: try reader.headers(), body: try reader.optionalBytes(), timeoutMillis: try reader.int(),
                    maxBodyBytes: try reader.int(), decodeContent: try reader.byte() == 1))
        case .cancel:
            return .cancel(try reader.lease())
        case .handBack:
            return .handBack
        case .result, .unstarted:
            throw WireError("a worker received a report")
        }
    }

    public static func decodeReport(_ payload: ArraySlice<UInt8>) throws(WireError) -> Report {
        var reader = try Reader(payload: payload)
        switch try reader.kind() {
        case .result:
            let lease = try reader.lease()
            let status = try reader.int()
            let headers = try reader.headers()
            let body = try reader.bytes()
            let truncated = try reader.byte() == 1
            let duration = try reader.int()
            let kind = try reader.string()
            let message = try reader.string()
            let decodedFrom = try reader.string()
            let failure =
                kind.isEmpty ? nil : FetchFailure(FetchFailure.Kind(rawValue: kind) ?? .other, message)
            return .result(
                FetchResult(
                    lease: lease, statusCode: status < 0 ? nil : status, headers: headers, body: body,
                    bodyTruncated: truncated, durationMillis: duration, failure: failure,
                    decodedFrom: decodedFrom.isEmpty ? nil : decodedFrom))
        case .unstarted:
            return .unstarted(try reader.lease())
        case .fetch, .cancel, .handBack:
            throw WireError("the supervisor received an order message")
        }
    }

    /// Splits complete frames off the front of `buffer`, calling `handle` with each payload, and
    /// removes what it consumed. A partial frame stays for the next read.
    public static func drainFrames(
        _ buffer: inout [UInt8], _ handle: (ArraySlice<UInt8>) throws -> Void
    ) throws {
        var offset = 0
        while buffer.count - offset >= 4 {
            let length =
                Int(buffer[offset]) << 24 | Int(buffer[offset + 1]) << 16 | Int(buffer[offset + 2]) << 8
                | Int(buffer[offset + 3])
            guard length <= maxPayload else { throw WireError("frame of \(length) bytes is over the limit") }
            guard buffer.count - offset - 4 >= length else { break }
            try handle(buffer[(offset + 4)..<(offset + 4 + length)])
            offset += 4 + length
        }
        if offset > 0 { buffer.removeFirst(offset) }
    }

    private struct Writer {
        var buffer: [UInt8]

        mutating func byte(_ value: UInt8) { buffer.append(value) }

        mutating func int(_ value: Int) {
            let bits = UInt64(bitPattern: Int64(value))
            for shift in stride(from: 56, through: 0, by: -8) {
                buffer.append(UInt8(truncatingIfNeeded: bits >> shift))
            }
        }

        mutating func bytes(_ value: [UInt8]) {
            int(value.count)
            buffer.append(contentsOf: value)
        }

        mutating func optionalBytes(_ value: [UInt8]?) {
            guard let value else { return int(-1) }
            bytes(value)
        }

        mutating func string(_ value: String) { bytes(Array(value.utf8)) }

        mutating func lease(_ lease: LeaseKey) {
            int(Int(lease.seq))
            int(lease.attempt)
        }

        mutating func headers(_ fields: [HeaderField]) {
            int(fields.count)
            for field in fields {
                string(field.name)
                string(field.value)
            }
        }
    }

    private struct Reader {
        let payload: ArraySlice<UInt8>
        var index: Int

        init(payload: ArraySlice<UInt8>) throws(WireError) {
            self.payload = payload
            self.index = payload.startIndex
            let version = try byte()
            guard version == WireCodec.version else {
                throw WireError("wire version \(version), this binary speaks \(WireCodec.version)")
            }
        }

        mutating func kind() throws(WireError) -> Kind {
            let raw = try byte()
            guard let kind = Kind(rawValue: raw) else { throw WireError("unknown message kind \(raw)") }
            return kind
        }

        mutating func byte() throws(WireError) -> UInt8 {
            guard index < payload.endIndex else { throw WireError("message ends early") }
            defer { index += 1 }
            return payload[index]
        }

        mutating func int() throws(WireError) -> Int {
            guard payload.endIndex - index >= 8 else { throw WireError("message ends early") }
            var bits: UInt64 = 0
            for offset in 0..<8 { bits = bits << 8 | UInt64(payload[index + offset]) }
            index += 8
            return Int(Int64(bitPattern: bits))
        }

        mutating func bytes() throws(WireError) -> [UInt8] {
            let count = try int()
            guard count >= 0, payload.endIndex - index >= count else { throw WireError("bad length \(count)") }
            defer { index += count }
            return Array(payload[index..<(index + count)])
        }

        mutating func optionalBytes() throws(WireError) -> [UInt8]? {
            let mark = index
            if try int() == -1 { return nil }
            index = mark
            return try bytes()
        }

        mutating func string() throws(WireError) -> String { String(decoding: try bytes(), as: UTF8.self) }

        mutating func lease() throws(WireError) -> LeaseKey {
            LeaseKey(seq: Int64(try int()), attempt: try int())
        }

        mutating func headers() throws(WireError) -> [HeaderField] {
            let count = try int()
            guard count >= 0, count <= 10_000 else { throw WireError("bad header count \(count)") }
            var fields: [HeaderField] = []
            fields.reserveCapacity(count)
            for _ in 0..<count { fields.append(HeaderField(try string(), try string())) }
            return fields
        }
    }
}

/// A malformed or unexpected message on the supervisor–worker pipe.
public struct WireError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
