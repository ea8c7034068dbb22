import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Why a server's certificate chain did not verify, which BoringSSL's error does not say. A second
/// handshake with the same server takes the chain it presents (nothing is sent but the handshake,
/// and the connection is closed as soon as the chain has arrived), and reads its validity dates: a
/// chain with a certificate past them has expired, or is not valid yet; any other did not verify
/// because no trusted authority issued it. The SSRF guard is applied to this connection too, before
/// its handshake. If the chain cannot be had, the answer is only that the certificate does not verify.
enum CertificateDiagnosis {
    static func diagnose(
        host: String, port: Int, destinations: DestinationGuard, on eventLoop: any EventLoop, timeout: TimeAmount
    ) -> EventLoopFuture<FetchFailure> {
        let fallback = FetchFailure(.tlsError, "certificate does not verify")
        let chain = eventLoop.makePromise(of: [NIOSSLCertificate].self)
        let pending = NIOLockedValueBox<EventLoopPromise<[NIOSSLCertificate]>?>(chain)
        let settle = { @Sendable (result: Result<[NIOSSLCertificate], any Error>) -> Void in
            let promise = pending.withLockedValue { promise in
                defer { promise = nil }
                return promise
            }
            promise?.completeWith(result)
        }
        let connecting = ClientBootstrap(group: eventLoop).connectTimeout(timeout).connect(host: host, port: port)
        let deadline = eventLoop.scheduleTask(in: timeout) { settle(.failure(ChannelError.connectTimeout(timeout))) }
        connecting.whenFailure { settle(.failure($0)) }
        connecting.whenSuccess { channel in
            if let address = channel.remoteAddress?.ipAddress, destinations.refuses(address) {
                channel.close(promise: nil)
                return settle(.failure(BlockedDestination(address: address)))
            }
            channel.closeFuture.whenComplete { _ in settle(.failure(ChannelError.alreadyClosed)) }
            do {
                var configuration = TLSConfiguration.makeClientConfiguration()
                configuration.certificateVerification = .noHostnameVerification
                let handler = try NIOSSLClientHandler(
                    // No SNI for an IP literal (NIOSSL refuses one).
                    context: try NIOSSLContext(configuration: configuration),
                    serverHostname: DestinationGuard.parse(host) == nil ? host : nil,
                    customVerificationCallback: { certificates, verdict in
                        settle(.success(certificates))
                        verdict.succeed(.failed)
                    }, configuration: .init())
                try channel.pipeline.syncOperations.addHandler(handler)
            } catch {
                settle(.failure(error))
                channel.close(promise: nil)
            }
        }
        return chain.futureResult.always { _ in
            deadline.cancel()
            connecting.whenSuccess { $0.close(promise: nil) }
        }.map { judge($0, now: time(nil)) }.recover { error in
            if let blocked = error as? BlockedDestination {
                return FetchFailure(.blockedDestination, blocked.description)
            }
            return fallback
        }
    }

    /// The cause a chain that did not verify shows, judged at `now`.
    static func judge(_ chain: [NIOSSLCertificate], now: time_t) -> FetchFailure {
        if chain.contains(where: { $0.notValidAfter < now }) {
            return FetchFailure(.tlsError, "certificate has expired")
        }
        if chain.contains(where: { $0.notValidBefore > now }) {
            return FetchFailure(.tlsError, "certificate is not yet valid")
        }
        return FetchFailure(.tlsError, "certificate issuer unknown")
    }
}
