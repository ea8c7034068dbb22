import Foundation
import JSON
import TestSupport
import Testing

/// The task `taskID` once it is final (or as it is after the deadline).
func finalTask(_ service: ServiceProcess, _ taskID: String, timeout: Duration = .seconds(60)) async throws -> JSONValue?
{
    _ = try await eventually(timeout: timeout) {
        let state = try await TestClient.get("\(service.baseURL)/v1/tasks/\(taskID)").json?["state"]?.stringValue
        return ["succeeded", "failed", "canceled"].contains(state ?? "")
    }
    return try await TestClient.get("\(service.baseURL)/v1/tasks/\(taskID)").json
}

/// Runs `body` with certificates made for the test and an HTTPS server for each identity asked for.
func withTLSServers(
    _ identities: [KeyPath<TestCertificates, TestCertificates.Identity>],
    _ body: (TestCertificates, [TLSTargetServer]) async throws -> Void
) async throws {
    try await withTemporaryDirectory { directory in
        let certificates = try TestCertificates(in: directory)
        var servers: [TLSTargetServer] = []
        do {
            for identity in identities {
                servers.append(try await TLSTargetServer(serving: certificates[keyPath: identity]))
            }
            try await body(certificates, servers)
        } catch {
            for server in servers { await server.stop() }
            throw error
        }
        for server in servers { await server.stop() }
    }
}

/// Three attempts allowed and quick retries: a failure that is retried shows as more than one attempt.
let retriedQuickly = #","max_attempts":3,"retry_base_ms":10,"retry_max_ms":20"#

@Suite struct TLSTests {
    @Test func aChainTrustedThroughCAFileIsFetchedAndWithoutItItsIssuerIsUnknown() async throws {
        try await withTLSServers([\.valid]) { certificates, servers in
            let url = "\(servers[0].baseURL)/ok/trusted"
            try await withRunningService(arguments: ["--processes", "1", "--ca-file", certificates.authority]) {
                service, _ in
                let (_, taskIDs) = try await submitJob(service, tasks: [url], extra: retriedQuickly)
                let task = try await finalTask(service, taskIDs[0])
                #expect(task?["state"] == "succeeded", "\(String(describing: task))")
                #expect(task?.at("outcome.status_code") == 200)
                let body = try await TestClient.get("\(service.baseURL)/v1/tasks/\(taskIDs[0])/body")
                #expect(body.text == "ok trusted")
            }
            try await withRunningService(arguments: ["--processes", "1"]) { service, _ in
                let (_, taskIDs) = try await submitJob(service, tasks: [url], extra: retriedQuickly)
                let task = try await finalTask(service, taskIDs[0])
                #expect(task?["state"] == "failed")
                #expect(task?.at("outcome.error") == "tls_error")
                #expect(task?.at("outcome.error_message") == "certificate issuer unknown")
                #expect(task?["attempts"] == 1, "not retried")
            }
            #expect(servers[0].requests("/ok/trusted") == 1, "one request arrived: the trusted fetch's")
        }
    }

    @Test func certificatesThatDoNotVerifyEachFailAfterOneAttemptNamingTheCause() async throws {
        try await withTLSServers([\.unknownIssuer, \.expired, \.wrongName]) { certificates, servers in
            try await withRunningService(arguments: ["--processes", "1", "--ca-file", certificates.authority]) {
                service, _ in
                let (_, taskIDs) = try await submitJob(
                    service, tasks: servers.map { "\($0.baseURL)/ok/never" }, extra: retriedQuickly)
                let causes = [
                    "certificate issuer unknown", "certificate has expired",
                    "certificate does not match host name 127.0.0.1",
                ]
                for (taskID, cause) in zip(taskIDs, causes) {
                    let task = try await finalTask(service, taskID)
                    #expect(task?["state"] == "failed", "\(cause): \(String(describing: task))")
                    #expect(task?.at("outcome.error") == "tls_error", "\(cause)")
                    #expect(task?.at("outcome.error_message")?.stringValue == cause)
                    #expect(task?["attempts"] == 1, "\(cause): not retried although 3 attempts were allowed")
                    #expect(task?["failure_reason"] == "not_retryable", "\(cause)")
                    #expect(task?["attempts_log"]?.arrayValue?.count == 1, "\(cause)")
                }
            }
            for server in servers {
                #expect(server.requests.isEmpty, "no request is sent over a connection that failed")
            }
        }
    }

    @Test func anHTTPSURLToAServerThatDoesNotSpeakTLSFailsOnce() async throws {
        let plain = try await TLSTargetServer.speakingPlainHTTP()
        defer { Task { await plain.stop() } }
        try await withRunningService(arguments: ["--processes", "1"]) { service, _ in
            let (_, taskIDs) = try await submitJob(
                service, tasks: ["https://127.0.0.1:\(plain.port)/ok/plain"], extra: retriedQuickly)
            let task = try await finalTask(service, taskIDs[0])
            #expect(task?.at("outcome.error") == "tls_error", "\(String(describing: task))")
            #expect(task?.at("outcome.error_message") == "the server does not speak TLS")
            #expect(task?["attempts"] == 1)
            #expect(plain.connections == 1)
        }
    }

    @Test func aConnectionResetDuringTheHandshakeIsRetried() async throws {
        let server = try await TLSTargetServer.resettingHandshakes()
        defer { Task { await server.stop() } }
        try await withRunningService(arguments: ["--processes", "1"]) { service, _ in
            let (_, taskIDs) = try await submitJob(
                service, tasks: ["\(server.baseURL)/ok/reset"], extra: retriedQuickly)
            let task = try await finalTask(service, taskIDs[0])
            #expect(task?["state"] == "failed")
            #expect(task?.at("outcome.error") == "connection_failed", "\(String(describing: task))")
            #expect(task?["attempts"] == 3, "retried until its attempts ran out")
            #expect(task?["failure_reason"] == "attempts_exhausted")
            #expect(server.connections == 3)
        }
    }

    @Test func aRedirectFromHTTPSToHTTPAndBackIsFollowedAndABlockedHopIsStillBlocked() async throws {
        try await withTLSServers([\.valid]) { certificates, servers in
            let secure = servers[0]
            let plain = try TargetServer()
            defer { Task { await plain.stop() } }
            // The guard is on, with 127.0.0.1 alone opened: 127.0.0.2 stays blocked.
            let arguments = ["--processes", "1", "--ca-file", certificates.authority, "--allow-cidr", "127.0.0.1/32"]
            try await withRunningService(arguments: arguments, guarded: true) { service, _ in
                let back = "\(secure.baseURL)/ok/back"
                let viaHTTP = plain.baseURL + TLSTargetServer.redirect(to: back)
                let roundTrip = secure.baseURL + TLSTargetServer.redirect(to: viaHTTP)
                let blocked =
                    secure.baseURL + TLSTargetServer.redirect(to: "https://127.0.0.2:\(secure.port)/ok/blocked")
                let (_, taskIDs) = try await submitJob(service, tasks: [roundTrip, blocked], extra: retriedQuickly)

                let followed = try await finalTask(service, taskIDs[0])
                #expect(followed?["state"] == "succeeded", "\(String(describing: followed))")
                let body = try await TestClient.get("\(service.baseURL)/v1/tasks/\(taskIDs[0])/body")
                #expect(body.text == "ok back")
                #expect(plain.totalRequests == 1, "the http hop was taken")
                #expect(secure.requests("/ok/back") == 1)

                let refused = try await finalTask(service, taskIDs[1])
                #expect(refused?["state"] == "failed")
                #expect(refused?.at("outcome.error") == "blocked_destination", "\(String(describing: refused))")
                #expect(refused?["attempts"] == 1)
                #expect(secure.requests("/ok/blocked") == 0)
            }
        }
    }

    @Test func aNameThatResolvesToLoopbackIsBlockedOverHTTPSToo() async throws {
        try await withTLSServers([\.valid]) { certificates, servers in
            try await withRunningService(
                arguments: ["--processes", "1", "--ca-file", certificates.authority], guarded: true
            ) { service, _ in
                let (_, taskIDs) = try await submitJob(
                    service, tasks: ["https://localhost:\(servers[0].port)/ok/name"], extra: retriedQuickly)
                let task = try await finalTask(service, taskIDs[0])
                #expect(task?.at("outcome.error") == "blocked_destination", "\(String(describing: task))")
                #expect(task?["attempts"] == 1)
            }
            #expect(servers[0].requests.isEmpty, "no request reached the server")
        }
    }

    @Test func aWebhookToAnHTTPSReceiverTrustedThroughCAFileIsDelivered() async throws {
        try await withTLSServers([\.valid, \.unknownIssuer]) { certificates, servers in
            let (receiver, stranger) = (servers[0], servers[1])
            let target = try TargetServer()
            defer { Task { await target.stop() } }
            let arguments =
                ["--processes", "1", "--ca-file", certificates.authority, "--webhook-secret", testSecret]
                + ["--webhook-retry-schedule-ms", "60000"]
            try await withRunningService(arguments: arguments) { service, _ in
                let events = #","callback_events":["job.finished"]"#
                let (delivered, _) = try await submitJob(
                    service, tasks: ["\(target.baseURL)/ok/a"],
                    extra: #","callback_url":"\#(receiver.baseURL)/hook""# + events)
                let (refused, _) = try await submitJob(
                    service, tasks: ["\(target.baseURL)/ok/b"],
                    extra: #","callback_url":"\#(stranger.baseURL)/hook""# + events)
                func delivery(_ jobID: String) async throws -> JSONValue? {
                    try await TestClient.get("\(service.baseURL)/v1/jobs/\(jobID)/deliveries").json?["deliveries"]?
                        .arrayValue?.first
                }
                #expect(try await eventually { try await delivery(delivered)?["state"] == "delivered" })
                let hook = receiver.requests.first { $0.path == "/hook" }
                #expect(hook?.method == "POST")
                #expect(hook?.headers["webhook-signature"]?.hasPrefix("v1,") == true)
                #expect(try await eventually { try await delivery(refused)?["last_error"]?.stringValue != nil })
                let failed = try await delivery(refused)
                #expect(
                    failed?["last_error"] == "tls_error: certificate issuer unknown", "\(String(describing: failed))")
                #expect(stranger.requests.isEmpty)
            }
        }
    }
}
