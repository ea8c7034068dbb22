import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Store

/// Settings of webhook delivery.
public struct WebhookConfiguration: Sendable {
    /// The service's signing secret (`whsec_…`); a job may set its own.
    public var secret: String
    /// Budget for one delivery attempt, response included.
    public var timeoutMillis: Int
    /// Waits before the 2nd, 3rd, … attempts (±20 % jitter); after the last, the delivery fails.
    public var retryScheduleMillis: [Int]
    /// Deliveries in flight at once: a budget of its own, apart from the fetchers'.
    public var concurrency: Int
    public var tickMillis: Int
    public var userAgent: String
    /// Which addresses receivers may have.
    public var destinations: DestinationGuard
    /// Certificate authorities trusted on top of the system's (`--ca-file`).
    public var trustRoots: TrustRoots?
    /// Where the dispatcher reads the time and waits between ticks; tests pass one they drive.
    public var clock: EngineClock
    /// Where the retry schedule's jitter is drawn; tests pass a seeded one.
    public var jitter: JitterSource

    /// Every value an operator can set has no default here: `fetchq serve`'s settings table holds it.
    public init(
        secret: String, timeoutMillis: Int, retryScheduleMillis: [Int], concurrency: Int, tickMillis: Int = 200,
        userAgent: String, destinations: DestinationGuard, trustRoots: TrustRoots?, clock: EngineClock = .system,
        jitter: JitterSource = .system
    ) {
        self.secret = secret
        self.timeoutMillis = timeoutMillis
        self.retryScheduleMillis = retryScheduleMillis
        self.concurrency = concurrency
        self.tickMillis = tickMillis
        self.userAgent = userAgent
        self.destinations = destinations
        self.trustRoots = trustRoots
        self.clock = clock
        self.jitter = jitter
    }
}

/// Sends webhook events from the outbox: claims due deliveries, signs and POSTs them with a client
/// of its own (so a dead receiver never takes a fetch slot), records the results in batches, and
/// schedules retries. At-least-once; order between events is not promised.
public final class WebhookDispatcher: Service, Sendable {
    private let store: any QueueStore
    private let configuration: WebhookConfiguration
    private let signer: WebhookSigner
    private let logger: Logger
    private let metrics: EngineMetrics

    public struct InvalidSecret: Error, CustomStringConvertible {
        public var description: String { "the webhook secret must be whsec_ followed by base64 of 24 to 64 bytes" }
    }

    public init(
        store: any QueueStore, configuration: WebhookConfiguration, logger: Logger, metrics: EngineMetrics = .none
    ) throws {
        guard let signer = WebhookSigner(secret: configuration.secret) else { throw InvalidSecret() }
        self.metrics = metrics
        self.store = store
        self.configuration = configuration
        self.signer = signer
        self.logger = logger
    }

    private enum Event: Sendable {
        case tick
        case done(DeliveryResult)
        case shutdown
    }

    public func run() async throws {
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.redirectConfiguration = .disallow
        clientConfiguration.tlsConfiguration = .fetchqClient(trusting: configuration.trustRoots)
        clientConfiguration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        // As many connections to one receiver as deliveries may be in flight: with the client's
        // default of 8, deliveries queued behind one slow receiver failed with a pool timeout.
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(
            8, configuration.concurrency)
        // No distributed tracing is bootstrapped; without this each request still builds a span.
        clientConfiguration.tracing.tracer = nil
        clientConfiguration.http1_1ConnectionDebugInitializer = configuration.destinations.check
        clientConfiguration.http2ConnectionDebugInitializer = configuration.destinations.check
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration)
        let inbox = EventInbox<Event>()
        let (clock, tick) = (configuration.clock, configuration.tickMillis)
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await clock.tick(every: .milliseconds(tick), posting: .tick, into: inbox) }
                await loop(inbox: inbox, client: client, group: &group)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            inbox.post(.shutdown)
        }
        try? await client.shutdown()
    }

    private func loop(inbox: EventInbox<Event>, client: HTTPClient, group: inout DiscardingTaskGroup) async {
        var inFlight: [Int64: Int] = [:]  // seq → attempt
        var finished: [DeliveryResult] = []
        var stopping = false
        while true {
            if !stopping {
                do {
                    let work = try await store.claimDeliveries(
                        limit: configuration.concurrency - inFlight.count, now: configuration.clock.wallMillis(),
                        leaseMillis: configuration.timeoutMillis + 5_000)
                    for delivery in work {
                        inFlight[delivery.seq] = delivery.attempt
                        group.addTask { inbox.post(.done(await self.send(delivery, client: client))) }
                    }
                } catch {
                    // A full disk was logged once by the store; the next tick tries again.
                    logger.log(
                        level: (error as? StoreError)?.isStorageFull == true ? .debug : .error,
                        "claiming deliveries failed",
                        metadata: ["error": "\(error)"])
                }
            }
            for event in await inbox.take() {
                switch event {
                case .tick: break
                case .done(let result):
                    inFlight[result.seq] = nil
                    finished.append(result)
                    metrics.delivery(result.next)
                case .shutdown: stopping = true
                }
            }
            do {
                try await store.recordDeliveries(finished)
                finished.removeAll()
            } catch {
                // A full disk was logged once by the store; the next tick tries again.
                logger.log(
                    level: (error as? StoreError)?.isStorageFull == true ? .debug : .error,
                    "recording deliveries failed",
                    metadata: ["error": "\(error)"])
            }
            if stopping {
                // Whatever is still being sent is made due again for the next start.
                try? await store.releaseDeliveries(
                    inFlight.map { (seq: $0.key, attempt: $0.value) }, now: configuration.clock.wallMillis())
                return
            }
        }
    }

    /// One attempt: POST the event, signed, within the timeout.
    private func send(_ delivery: DeliveryWork, client: HTTPClient) async -> DeliveryResult {
        let body = Array(delivery.payload.utf8)
        let timestamp = Int(Date().timeIntervalSince1970)
        let signer = delivery.secret.flatMap(WebhookSigner.init(secret:)) ?? self.signer
        var request = HTTPClientRequest(url: delivery.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: configuration.userAgent)
        request.headers.add(name: "webhook-id", value: delivery.id.rawValue)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(
            name: "webhook-signature",
            value: signer.signature(id: delivery.id.rawValue, timestamp: timestamp, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        let signed = request
        let timeout = configuration.timeoutMillis
        var status: Int?
        var retryAfter: String?
        var error: String?
        do {
            (status, retryAfter) = try await withTimeLimit(.milliseconds(timeout)) {
                // The client's own deadline is a backstop; the time limit around it decides.
                let response = try await client.execute(signed, timeout: .milliseconds(Int64(timeout) + 1_000))
                _ = try? await response.body.collect(upTo: 64 * 1024)
                return (Int(response.status.code), response.headers.first(name: "retry-after"))
            }
        } catch let failure as FetchFailure {
            error = failure.kind == .timeout ? "timeout: timed out after \(timeout) ms" : failure.message
        } catch let blocked as BlockedDestination {
            error = "blocked_destination: \(blocked)"
        } catch let caught as HTTPClientError where caught == .deadlineExceeded || caught == .readTimeout {
            error = "timeout: timed out after \(timeout) ms"
        } catch let caught {
            error = await reason(for: caught, url: delivery.url, client: client)
        }
        let now = configuration.clock.wallMillis()
        let next = nextStep(status: status, retryAfter: retryAfter, attempt: delivery.attempt, now: now)
        logger.debug(
            "webhook attempt",
            metadata: [
                "delivery.id": "\(delivery.id)", "delivery.attempt": "\(delivery.attempt)",
                "http.status": "\(status.map(String.init) ?? "-")", "delivery.next": "\(next)",
                "delivery.error": "\(error ?? "-")",
            ])
        return DeliveryResult(
            seq: delivery.seq, attempt: delivery.attempt, next: next, status: status,
            error: error ?? status.flatMap { (200..<300).contains($0) ? nil : "the receiver answered \($0)" }, at: now)
    }

    /// Why an attempt got no answer, as recorded: `tls_error: certificate has expired`,
    /// `connection_failed: …`. A certificate that did not verify is looked at again for the cause.
    private func reason(for error: any Error, url: String, client: HTTPClient) async -> String {
        guard let target = URL(string: url), let host = target.host,
            var failure = TLSFailure.failure(for: error, host: host)
        else {
            let host = URL(string: url)?.host ?? url
            return "connection_failed: \(NetworkFailure.sentence(for: error, host: host))"
        }
        if TLSFailure.isUnverifiedChain(error) {
            let diagnosis = CertificateDiagnosis.diagnose(
                host: host, port: target.port ?? 443, destinations: configuration.destinations,
                on: client.eventLoopGroup.next(), timeout: .seconds(5))
            failure = (try? await diagnosis.get()) ?? failure
        }
        return "\(failure.kind.rawValue): \(failure.message)"
    }

    /// What follows an attempt: done on 2xx, stop on 410, otherwise the next step of the schedule
    /// (or `Retry-After` on 429/503), until the schedule runs out.
    func nextStep(status: Int?, retryAfter: String?, attempt: Int, now: Int64) -> DeliveryResult.Next {
        if let status, (200..<300).contains(status) { return .delivered }
        if status == 410 { return .gone }
        let schedule = configuration.retryScheduleMillis
        guard attempt <= schedule.count else { return .failed }
        if let status, status == 429 || status == 503, let retryAfter,
            let wait = RetryPolicy.parseRetryAfter(retryAfter, now: now)
        {
            return .retry(at: now + Int64(min(wait, 86_400_000)))
        }
        let base = Double(schedule[attempt - 1])
        var jitter = configuration.jitter
        return .retry(at: now + Int64(base * Double.random(in: 0.8...1.2, using: &jitter)))
    }
}
