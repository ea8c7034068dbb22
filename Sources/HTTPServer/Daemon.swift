import CMicroHTTPD
import Foundation
import NIOConcurrencyHelpers

// The libmicrohttpd boundary: the only file in the HTTPServer module that touches a C pointer.

/// Owns one running `MHD_Daemon`.
///
/// `@unchecked Sendable` is safe: `handle` is immutable and libmicrohttpd's daemon calls are
/// thread-safe; `stop()` runs its body once, guarded by `stopped`.
final class Daemon: @unchecked Sendable {
    private let handle: OpaquePointer
    private let registry: Unmanaged<ConnectionRegistry>
    private let stopped = NIOLockedValueBox(false)
    private let listenSocket = NIOLockedValueBox<Int32?>(nil)
    let port: Int

    init(configuration: HTTPServerConfiguration, registry: ConnectionRegistry) throws {
        let flags =
            MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_EPOLL.rawValue | MHD_ALLOW_SUSPEND_RESUME.rawValue
            | MHD_USE_ERROR_LOG.rawValue
        let retained = Unmanaged.passRetained(registry)
        var badHost: Int32 = 0
        // The limits are the watch's (`admits`), so that a refusal is counted; libmicrohttpd's
        // own limit is only a backstop above them (it splits it among its threads, unevenly used).
        let started = fetchq_mhd_start(
            flags, configuration.host, UInt16(truncatingIfNeeded: configuration.port), &badHost, accessHandler,
            retained.toOpaque(), requestCompleted, connectionNotified, admitConnection, UInt32(configuration.threads),
            UInt32(configuration.connectionTimeoutSeconds),
            UInt32(clamping: 2 * configuration.connectionLimit + 4 * configuration.threads), 0, 64 * 1024)
        guard let started else {
            retained.release()
            throw badHost != 0
                ? HTTPServerError(
                    .hostNotAnAddress, "the host must be an IP address literal, not \(configuration.host)")
                : HTTPServerError(
                    .cannotListen,
                    "cannot listen on \(configuration.host):\(configuration.port) (in use, or not allowed)")
        }
        self.handle = started
        self.registry = retained
        self.port = Int(fetchq_mhd_bound_port(started))
    }

    /// Stops accepting new connections; existing ones go on.
    func quiesce() {
        let socket = MHD_quiesce_daemon(handle)
        if socket >= 0 { listenSocket.withLockedValue { $0 = socket } }
    }

    func stop() {
        guard
            stopped.withLockedValue({ done in
                defer { done = true }
                return !done
            })
        else { return }
        MHD_stop_daemon(handle)
        if let socket = listenSocket.withLockedValue({ $0 }) { close(socket) }
        registry.release()
    }
}

/// libmicrohttpd's access handler: recover the registry, hand the call on.
private let accessHandler: MHD_AccessHandlerCallback = {
    context, connection, url, method, _, uploadData, uploadSize, requestContext in
    guard let context, let connection, let url, let method, let uploadSize, let requestContext else {
        return MHD_Result.NO
    }
    let registry = Unmanaged<ConnectionRegistry>.fromOpaque(context).takeUnretainedValue()
    return registry.access(
        connection: connection, path: String(cString: url), method: String(cString: method),
        upload: uploadData, uploadSize: uploadSize, state: requestContext)
}

/// libmicrohttpd's end-of-request callback: report the request completed and release its state.
private let requestCompleted: MHD_RequestCompletedCallback = { context, connection, requestContext, _ in
    guard let context else { return }
    let registry = Unmanaged<ConnectionRegistry>.fromOpaque(context).takeUnretainedValue()
    if let connection { registry.watch.requestEnded(key(connection)) }
    guard let requestContext, let raw = requestContext.pointee else { return }
    let state = Unmanaged<RequestState>.fromOpaque(raw)
    registry.completed(state.takeUnretainedValue())
    state.release()
    requestContext.pointee = nil
}

/// libmicrohttpd's connection callback: tell the watch a connection opened or closed. It reports
/// one closed before it closes its socket, which is what lets the watch cut sockets safely.
private let connectionNotified: MHD_NotifyConnectionCallback = { context, connection, _, code in
    guard let context, let connection else { return }
    let watch = Unmanaged<ConnectionRegistry>.fromOpaque(context).takeUnretainedValue().watch
    switch code {
    case .CONNECTION_NOTIFY_STARTED:
        var text = [CChar](repeating: 0, count: 64)
        fetchq_mhd_connection_address(connection, &text, text.count)
        watch.opened(key(connection), socket: fetchq_mhd_connection_socket(connection), address: address(text))
    case .CONNECTION_NOTIFY_CLOSED:
        watch.closed(key(connection))
    default:
        break
    }
}

/// libmicrohttpd's accept policy: refuse a connection over a limit at once (it closes the socket).
private let admitConnection: MHD_AcceptPolicyCallback = { context, socketAddress, _ in
    guard let context else { return MHD_Result.NO }
    var text = [CChar](repeating: 0, count: 64)
    fetchq_format_address(socketAddress, &text, text.count)
    let watch = Unmanaged<ConnectionRegistry>.fromOpaque(context).takeUnretainedValue().watch
    return watch.admits(address(text)) ? MHD_Result.YES : MHD_Result.NO
}

/// A connection's key in the watch: its handle's address.
private func key(_ connection: OpaquePointer) -> ConnectionTable.Key { UInt(bitPattern: Int(bitPattern: connection)) }

/// The text a C string buffer holds, up to its first zero.
private func address(_ text: [CChar]) -> String {
    String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Cuts a connection's socket from the watch's sweeper, writing `reply` first if the socket takes it.
func cutSocket(_ socket: Int32, reply: [UInt8]) {
    guard socket >= 0 else { return }
    reply.withUnsafeBytes { bytes in
        fetchq_cut_socket(socket, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
    }
}

/// A suspended connection, kept until its request is answered.
///
/// `@unchecked Sendable` is safe: the pointer is only passed to `MHD_resume_connection`, which
/// may be called from any thread when the daemon has `MHD_ALLOW_SUSPEND_RESUME`, and
/// libmicrohttpd keeps a suspended connection alive until it is resumed. `InFlightRequests`
/// hands each one out for resuming once.
struct SuspendedConnection: @unchecked Sendable {
    fileprivate let pointer: OpaquePointer
    let state: RequestState
}

/// Routes libmicrohttpd's calls to the responder. A `.later` reply suspends the connection and goes
/// to `accepted`, for a child task of `HTTPServer.run()` to answer (so do the pieces of a streamed
/// body); every suspended connection is resumed exactly once, by `resume` or, at shutdown, by
/// `closeAndResumeAll`.
final class ConnectionRegistry: Sendable {
    private let responder: any HTTPResponder
    private let maxRequestBytes: Int
    private let accepted: AsyncStream<ServerWork>.Continuation
    let inFlight = InFlightRequests<SuspendedConnection>()
    let watch: ConnectionWatch

    init(
        responder: any HTTPResponder, maxRequestBytes: Int, accepted: AsyncStream<ServerWork>.Continuation,
        watch: ConnectionWatch
    ) {
        self.watch = watch
        self.responder = responder
        self.maxRequestBytes = maxRequestBytes
        self.accepted = accepted
    }

    fileprivate func access(
        connection: OpaquePointer, path: String, method: String, upload: UnsafePointer<CChar>?,
        uploadSize: UnsafeMutablePointer<Int>, state stateSlot: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    ) -> MHD_Result {
        guard let raw = stateSlot.pointee else {
            // First call: headers only. Answering now would make libmicrohttpd close the
            // connection, so only a request that announces too large a body is answered here.
            stateSlot.pointee = Unmanaged.passRetained(RequestState()).toOpaque()
            watch.headComplete(key(connection))
            if let length = Self.values(connection, MHD_ValueKind.HEADER_KIND)["content-length"].flatMap(Int.init),
                length > maxRequestBytes
            {
                watch.handling(key(connection))
                return queue(responder.response(for: .requestTooLarge(limit: maxRequestBytes)), on: connection)
            }
            return MHD_Result.YES
        }
        let state = Unmanaged<RequestState>.fromOpaque(raw).takeUnretainedValue()
        if let response = state.response.withLockedValue({ $0.take() }) {
            inFlight.queued(ObjectIdentifier(state))
            return queue(response, on: connection, head: method == "HEAD")
        }
        if uploadSize.pointee > 0 {
            let count = uploadSize.pointee
            watch.bodyReceived(key(connection), bytes: count)
            if state.body.count + count > maxRequestBytes {
                state.tooLarge = true
                state.body = []
            } else if !state.tooLarge, let upload {
                upload.withMemoryRebound(to: UInt8.self, capacity: count) { bytes in
                    state.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: count))
                }
            }
            uploadSize.pointee = 0
            return MHD_Result.YES
        }
        if state.dispatched { return MHD_Result.YES }
        watch.handling(key(connection))
        if state.tooLarge {
            return queue(responder.response(for: .requestTooLarge(limit: maxRequestBytes)), on: connection)
        }

        let request = HTTPRequest(
            method: method, path: path,
            query: Self.values(connection, MHD_ValueKind.GET_ARGUMENT_KIND, lowercased: false),
            headers: Self.values(connection, MHD_ValueKind.HEADER_KIND), body: state.body)
        state.body = []
        let reply: Reply
        do {
            reply = try responder.reply(to: request)
        } catch {
            return queue(responder.response(for: .handlerFailed(error, request)), on: connection)
        }
        switch reply {
        case .now(let response):
            return queue(response, on: connection, head: method == "HEAD")
        case .later(let work):
            let key = ObjectIdentifier(state)
            // Closed: the daemon is about to stop and must not find a connection suspended.
            guard inFlight.admit(key, SuspendedConnection(pointer: connection, state: state)) else {
                return queue(responder.response(for: .shuttingDown), on: connection)
            }
            state.dispatched = true
            MHD_suspend_connection(connection)
            if case .terminated = accepted.yield(.answer(AcceptedRequest(key: key, request: request, work: work))) {
                // `run()` has ended (or was cancelled) and will answer nothing more.
                resume(key, with: responder.response(for: .shuttingDown))
            }
            return MHD_Result.YES
        }
    }

    /// Hands `response` to a suspended request and resumes it, unless something already did.
    func resume(_ key: ObjectIdentifier, with response: HTTPResponse) {
        guard let connection = inFlight.answer(key) else { return }
        connection.state.response.withLockedValue { $0 = response }
        MHD_resume_connection(connection.pointer)
    }

    /// At shutdown: admits nothing more and answers every request still suspended with `response`.
    func closeAndResumeAll(with response: HTTPResponse) {
        for connection in inFlight.closeAndAnswerAll() {
            connection.state.response.withLockedValue { $0 = response }
            MHD_resume_connection(connection.pointer)
        }
    }

    /// libmicrohttpd completed the request (sent its response, or lost its connection).
    fileprivate func completed(_ state: RequestState) {
        guard state.dispatched else { return }
        inFlight.remove(ObjectIdentifier(state))
    }

    /// Header values (names lower-cased, repeats joined with ", ") or query arguments.
    private static func values(
        _ connection: OpaquePointer, _ kind: MHD_ValueKind, lowercased: Bool = true
    ) -> [String: String] {
        final class Collector {
            var values: [String: String] = [:]
            var lowercased = true
        }
        let collector = Collector()
        collector.lowercased = lowercased
        withExtendedLifetime(collector) {
            _ = MHD_get_connection_values(
                connection, kind,
                { context, _, key, value in
                    guard let context, let key else { return MHD_Result.YES }
                    let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
                    let name = collector.lowercased ? String(cString: key).lowercased() : String(cString: key)
                    let text = value.map { String(cString: $0) } ?? ""
                    if collector.lowercased, let existing = collector.values[name] {
                        collector.values[name] = existing + ", " + text
                    } else {
                        collector.values[name] = text
                    }
                    return MHD_Result.YES
                }, Unmanaged.passUnretained(collector).toOpaque())
        }
        return collector.values
    }

    /// `head`: the request was a HEAD. A streamed body is then not started at all: libmicrohttpd
    /// answers a HEAD with a chunked response's head and then its chunked trailer too, bytes a
    /// kept-alive client reads as the start of its next answer (schemathesis saw the connection
    /// aborted now and then).
    private func queue(_ response: HTTPResponse, on connection: OpaquePointer, head: Bool = false) -> MHD_Result {
        let created: OpaquePointer?
        if let stream = response.stream, !head {
            // Unknown size: libmicrohttpd sends it chunked, asking `streamReader` for each piece.
            let body = Unmanaged.passRetained(StreamedBody(stream, connection: connection, work: accepted)).toOpaque()
            created = MHD_create_response_from_callback(UInt64.max, 32 * 1024, streamReader, body, streamFree)
            if created == nil { Unmanaged<StreamedBody>.fromOpaque(body).release() }
        } else {
            created = response.body.withUnsafeBytes { buffer in
                MHD_create_response_from_buffer(
                    buffer.count, UnsafeMutableRawPointer(mutating: buffer.baseAddress),
                    MHD_ResponseMemoryMode.RESPMEM_MUST_COPY)
            }
        }
        guard let created else { return MHD_Result.NO }
        defer { MHD_destroy_response(created) }
        for (name, value) in response.headers { _ = MHD_add_response_header(created, name, value) }
        return MHD_queue_response(connection, UInt32(response.status), created)
    }
}

/// libmicrohttpd's content reader of a streamed body: fill `buffer` with up to `max` bytes.
private let streamReader: MHD_ContentReaderCallback = { context, _, buffer, max in
    guard let context, let buffer else { return -2 }
    return Unmanaged<StreamedBody>.fromOpaque(context).takeUnretainedValue().fill(buffer, max: max)
}

/// libmicrohttpd is done with a streamed body (sent, or its connection lost): release it.
private let streamFree: MHD_ContentReaderFreeCallback = { context in
    guard let context else { return }
    Unmanaged<StreamedBody>.fromOpaque(context).release()
}

/// A streamed body being sent: the stream and the piece it last produced, not yet all copied out.
///
/// Pieces come from Swift concurrency (a store read may be a round trip to PostgreSQL): when none
/// is ready, the reader suspends the connection and returns 0, the pattern libmicrohttpd
/// prescribes for "no data yet", and the task that produces the piece resumes it. The server's
/// thread never waits.
///
/// `@unchecked Sendable` is safe: libmicrohttpd calls the content reader of one response from one
/// thread at a time, and nothing else touches `pending`, `offset` or `producing`; the piece handed
/// over from the producing task sits behind a lock. A suspended connection is never closed by
/// libmicrohttpd, so the connection outlives the task that resumes it.
private final class StreamedBody: @unchecked Sendable {
    /// The connection, for the producing task to resume. `@unchecked Sendable` is safe: the pointer is
    /// only passed to `MHD_resume_connection`, callable from any thread (`MHD_ALLOW_SUSPEND_RESUME`).
    private struct Connection: @unchecked Sendable { let pointer: OpaquePointer }

    private let stream: HTTPBodyStream
    private let connection: Connection
    private let work: AsyncStream<ServerWork>.Continuation
    private var pending: [UInt8] = []
    private var offset = 0
    private var producing = false
    private let produced = NIOLockedValueBox<Result<[UInt8]?, any Error>?>(nil)

    init(_ stream: HTTPBodyStream, connection: OpaquePointer, work: AsyncStream<ServerWork>.Continuation) {
        self.stream = stream
        self.connection = Connection(pointer: connection)
        self.work = work
    }

    /// Bytes copied; 0 while the next piece is being produced (the connection is then suspended);
    /// -1 at the end of the stream, -2 when the stream failed.
    func fill(_ buffer: UnsafeMutablePointer<CChar>, max: Int) -> Int {
        while offset == pending.count {
            guard let result = produced.withLockedValue({ $0.take() }) else {
                if !producing { produceNext() }
                return 0
            }
            producing = false
            switch result {
            case .failure: return -2
            case .success(nil): return -1
            case .success(let piece?): (pending, offset) = (piece, 0)
            }
        }
        let count = Swift.min(max, pending.count - offset)
        pending.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            UnsafeMutableRawPointer(buffer).copyMemory(from: base + offset, byteCount: count)
        }
        offset += count
        return count
    }

    /// Suspends the connection (first, so that the resume cannot come before it) and hands the
    /// next piece to a child task of `HTTPServer.run()`, which resumes the connection once the piece
    /// is there. Once `run()` takes no more work, the stream fails at once (the response is cut).
    private func produceNext() {
        producing = true
        MHD_suspend_connection(connection.pointer)
        let (stream, produced, connection) = (self.stream, self.produced, self.connection)
        let yielded = work.yield(
            .produce {
                let result: Result<[UInt8]?, any Error>
                do { result = .success(try await stream.next()) } catch { result = .failure(error) }
                produced.withLockedValue { $0 = result }
                MHD_resume_connection(connection.pointer)
            })
        if case .terminated = yielded {
            produced.withLockedValue { $0 = .failure(CancellationError()) }
            MHD_resume_connection(connection.pointer)
        }
    }
}
