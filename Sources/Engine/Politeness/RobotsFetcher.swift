import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import Robots

/// Fetches origins' robots.txt for the scheduler, off its loop: `fetch` queues a request and
/// returns at once; `run()` sends each with a client of its own (fetchq's User-Agent, redirects up
/// to the policy's limit, the SSRF guard on every connection, at most `maxBytes` read) and posts
/// the answer to the engine's inbox.
final class RobotsFetcher: Sendable {
    private let policy: RobotsPolicy
    private let userAgent: String
    private let productToken: String
    private let destinations: DestinationGuard
    private let trustRoots: TrustRoots?
    private let inbox: EventInbox<EngineEvent>
    private let logger: Logger
    private let requests: AsyncStream<(origin: String, host: String)>
    private let requested: AsyncStream<(origin: String, host: String)>.Continuation

    init(configuration: EngineConfiguration, inbox: EventInbox<EngineEvent>, logger: Logger) {
        policy = configuration.robots
        userAgent = configuration.userAgent
        productToken = RobotsTxt.productToken(fromUserAgent: configuration.userAgent)
        destinations = configuration.destinations
        trustRoots = configuration.trustRoots
        self.inbox = inbox
        self.logger = logger
        (requests, requested) = AsyncStream.makeStream()
    }

    /// Asks for the origin's robots.txt; the answer arrives in the inbox as `.robots`.
    func fetch(origin: String, host: String) { requested.yield((origin, host)) }

    /// Sends the requests until the task is cancelled.
    func run() async {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .follow(max: policy.maxRedirects, allowCycles: false)
        configuration.tlsConfiguration = .fetchqClient(trusting: trustRoots)
        configuration.timeout = .init(
            connect: .milliseconds(Int64(policy.timeoutMillis)), read: .milliseconds(Int64(policy.timeoutMillis)))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.tracing.tracer = nil
        configuration.http1_1ConnectionDebugInitializer = destinations.check
        configuration.http2ConnectionDebugInitializer = destinations.check
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        // Cancelling ends the stream of requests; the fetches in flight are cancelled with the task.
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                for await request in requests {
                    group.addTask {
                        let answer = await self.answer(origin: request.origin, host: request.host, client: client)
                        self.inbox.post(.robots(origin: request.origin, answer))
                    }
                }
            }
        } onCancel: {
            requested.finish()
        }
        try? await client.shutdown()
    }

    /// The origin's robots.txt as RFC 9309 reads it.
    private func answer(origin: String, host: String, client: HTTPClient) async -> RobotsAnswer {
        var request = HTTPClientRequest(url: origin + "/robots.txt")
        request.headers.add(name: "User-Agent", value: userAgent)
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(policy.timeoutMillis)))
            let status = Int(response.status.code)
            switch status {
            case 200..<300:
                var body: [UInt8] = []
                for try await chunk in response.body {
                    body.append(contentsOf: chunk.readableBytesView.prefix(policy.maxBytes - body.count))
                    if body.count >= policy.maxBytes { break }
                }
                return .rules(RobotsTxt(parsing: body).rules(for: productToken))
            case 500...:
                return .unavailable(reason: "the server answered \(status)")
            default:
                // 4xx (and a 3xx the client did not follow): no restrictions.
                return .allowAll(status: status)
            }
        } catch let error as HTTPClientError where error == .redirectLimitReached || error == .redirectCycleDetected {
            return .allowAll(status: nil)
        } catch is BlockedDestination {
            // The tasks themselves are refused by the guard when sent, each with its own error.
            return .allowAll(status: nil)
        } catch {
            let reason =
                (error as? HTTPClientError).map { $0 == .deadlineExceeded || $0 == .readTimeout } == true
                ? "timed out after \(policy.timeoutMillis) ms" : NetworkFailure.sentence(for: error, host: host)
            logger.debug("robots.txt unavailable", metadata: ["robots.origin": "\(origin)", "error": "\(reason)"])
            return .unavailable(reason: reason)
        }
    }
}
