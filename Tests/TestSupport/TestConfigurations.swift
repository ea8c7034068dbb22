import API
import Engine
import HTTPServer

/// Configurations for servers the tests start in-process. The service's own defaults live in its
/// settings table (`Sources/fetchq/Settings.swift`); these are the tests' choices, written out.
extension HTTPServerConfiguration {
    /// 127.0.0.1 on a free port.
    public static let loopbackForTests = HTTPServerConfiguration(
        host: "127.0.0.1", port: 0, threads: 4, maxRequestBytes: 16 << 20, connectionTimeoutSeconds: 30,
        headerTimeoutSeconds: 10, minBodyRate: 1_024, connectionLimit: 1_024, perIPConnectionLimit: 256)
}

extension FetchqAPI.Configuration {
    /// Submission limits and defaults as the service's, no authentication, and the SSRF guard as
    /// given (off by default, since the tests' targets live on 127.0.0.1).
    public static func forTests(
        destinations: DestinationGuard = DestinationGuard(allowPrivateTargets: true), apiTokens: [String] = []
    ) -> FetchqAPI.Configuration {
        FetchqAPI.Configuration(
            limits: SubmissionLimits(), defaults: SubmissionDefaults(), destinations: destinations,
            apiTokens: apiTokens)
    }
}
