import API
import Foundation
import JSON
import Spawn
import Store
import TestSupport
import Testing

/// A fixed secret for tests (32 bytes of base64).
let testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/// Webhook options that keep the tests short: quick retries.
let quickWebhooks = [
    "--webhook-secret", testSecret, "--webhook-retry-schedule-ms", "100,100", "--per-host-concurrency", "64",
]

func submitJob(_ service: ServiceProcess, tasks: [String], extra: String) async throws -> (String, [String]) {
    let json = #"{"tasks":[\#(tasks.map { #"{"url":"\#($0)"}"# }.joined(separator: ","))]\#(extra)}"#
    let response = try await TestClient.post("\(service.baseURL)/v1/jobs", json: json)
    let id = try #require(response.json?["id"]?.stringValue, "submit answered \(response.status): \(response.text)")
    return (id, (response.json?["task_ids"]?.arrayValue ?? []).compactMap(\.stringValue))
}

/// Runs `body` with a target server and a webhook receiver verifying with `secret`, stopping both after.
func withTargetAndReceiver(
    secret: String = testSecret, _ body: (TargetServer, WebhookReceiver) async throws -> Void
) async throws {
    let target = try TargetServer()
    let receiver = try await WebhookReceiver(secret: secret)
    defer { receiver.stop() }
    do {
        try await body(target, receiver)
    } catch {
        await target.stop()
        throw error
    }
    await target.stop()
}

@Suite(.serialized) struct WebhookTests {
    @Test func everyTaskAndTheJobAreReportedOnceEachWithValidSignatures() async throws {
        try await withTargetAndReceiver { target, receiver in
            try await withRunningService(arguments: quickWebhooks) { service, _ in
                let urls = (0..<50).map { "\(target.baseURL)/ok/\($0)" } + ["\(target.baseURL)/status/404"]
                let (jobID, taskIDs) = try await submitJob(
                    service, tasks: urls, extra: #","callback_url":"\#(receiver.baseURL)/ok""#)
                let arrived = try await eventually(timeout: .seconds(30)) {
                    let calls = try await receiver.calls()
                    return calls.contains { $0.type == "job.finished" }
                        && Set(calls.compactMap(\.taskID)).count == taskIDs.count
                }
                #expect(arrived)
                let calls = try await receiver.calls()
                let allValid = calls.allSatisfy { $0.valid }
                #expect(
                    allValid,
                    "every signature verifies with the standardwebhooks package: \(calls.compactMap(\.problem).prefix(3))"
                )
                let taskEvents = calls.filter { $0.type == "task.finished" }
                #expect(Set(taskEvents.map(\.id)).count == taskIDs.count)
                #expect(Set(taskEvents.compactMap(\.taskID)) == Set(taskIDs))
                #expect(Set(calls.filter { $0.type == "job.finished" }.map(\.id)).count == 1)
                #expect(calls.first { $0.type == "job.finished" }?.jobID == jobID)
                // Each event also shows as delivered in the API.
                let page = try await TestClient.get("\(service.baseURL)/v1/jobs/\(jobID)/deliveries?limit=1000").json
                let deliveries = page?["deliveries"]?.arrayValue ?? []
                #expect(deliveries.count == taskIDs.count + 1)
                #expect(deliveries.allSatisfy { $0["state"] == "delivered" })
            }
        }
    }

    @Test func aFailingReceiverIsRetriedUntilItAccepts() async throws {
        try await withTargetAndReceiver { target, receiver in
            try await withRunningService(arguments: quickWebhooks) { service, _ in
                let (jobID, _) = try await submitJob(
                    service, tasks: ["\(target.baseURL)/ok/a"],
                    extra: #","callback_url":"\#(receiver.baseURL)/fail/2","callback_events":["job.finished"]"#)
                #expect(try await eventually { try await receiver.calls().contains { $0.status == 200 } })
                let calls = try await receiver.calls()
                #expect(calls.map(\.status) == [500, 500, 200])
                #expect(Set(calls.map(\.id)).count == 1, "the webhook-id is stable across attempts")
                let delivery = try await TestClient.get("\(service.baseURL)/v1/jobs/\(jobID)/deliveries").json?[
                    "deliveries"]?.arrayValue?.first
                #expect(delivery?["attempts"] == 3)
                #expect(delivery?["state"] == "delivered")
            }
        }
    }

    @Test func retryAfterFromTheReceiverIsHonoured() async throws {
        try await withTargetAndReceiver { target, receiver in
            try await withRunningService(arguments: quickWebhooks) { service, _ in
                _ = try await submitJob(
                    service, tasks: ["\(target.baseURL)/ok/a"],
                    extra: #","callback_url":"\#(receiver.baseURL)/ratelimit/1/2","callback_events":["job.finished"]"#)
                #expect(try await eventually { try await receiver.calls().contains { $0.status == 200 } })
                let calls = try await receiver.calls()
                #expect(calls.map(\.status) == [429, 200])
                #expect(calls[1].at - calls[0].at >= 1.9, "the second attempt waited for Retry-After: 2")
            }
        }
    }

    @Test func aHangingReceiverTimesOutAndIsGivenUpAfterTheSchedule() async throws {
        try await withTargetAndReceiver { target, receiver in
            try await withRunningService(arguments: quickWebhooks + ["--webhook-timeout-ms", "500"]) { service, _ in
                let (jobID, _) = try await submitJob(
                    service, tasks: ["\(target.baseURL)/ok/a"],
                    extra: #","callback_url":"\#(receiver.baseURL)/hang/3000","callback_events":["job.finished"]"#)
                let url = "\(service.baseURL)/v1/jobs/\(jobID)/deliveries"
                let givenUp = try await eventually(timeout: .seconds(20)) {
                    try await TestClient.get(url).json?["deliveries"]?.arrayValue?.first?["state"] == "failed"
                }
                #expect(givenUp)
                let delivery = try await TestClient.get(url).json?["deliveries"]?.arrayValue?.first
                #expect(delivery?["attempts"] == 3, "one attempt and the two retries of the schedule")
                #expect(delivery?["last_error"]?.stringValue?.contains("timeout") == true)
                // A user can send it again.
                let id = try #require(delivery?["id"]?.stringValue)
                let again = try await TestClient.request("POST", "\(service.baseURL)/v1/deliveries/\(id)/redeliver")
                #expect(again.status == 200)
                #expect(again.json?["state"] == "pending")
            }
        }
    }

    @Test func goneStopsEveryDeliveryOfTheJobToThatURL() async throws {
        try await withTargetAndReceiver { target, receiver in
            try await withRunningService(arguments: quickWebhooks + ["--webhook-concurrency", "1"]) { service, _ in
                // One quick task, whose event meets the 410, and four that finish a second later: their
                // events and the job's are created after the 410 and must not be sent either.
                let (jobID, _) = try await submitJob(
                    service, tasks: ["\(target.baseURL)/ok/0"] + (1..<5).map { "\(target.baseURL)/work/\($0)/1000" },
                    extra: #","callback_url":"\#(receiver.baseURL)/gone""#)
                let url = "\(service.baseURL)/v1/jobs/\(jobID)/deliveries"
                let settled = try await eventually(timeout: .seconds(20)) {
                    let deliveries = try await TestClient.get(url).json?["deliveries"]?.arrayValue ?? []
                    return deliveries.count == 6 && deliveries.allSatisfy { $0["state"] == "failed" }
                }
                #expect(settled)
                #expect(try await receiver.calls().count == 1, "nothing more was sent after the 410")
            }
        }
    }

    @Test func pendingDeliveriesSurviveAKilledService() async throws {
        try await withTargetAndReceiver { target, receiver in
            try await withTemporaryDirectory { directory in
                let database = directory.appending(path: "fetchq.db")
                // The first attempt fails and the retry is due only in 3 s: kill the service before then.
                let arguments = [
                    "--webhook-secret", testSecret, "--webhook-retry-schedule-ms", "3000", "--per-host-concurrency",
                    "64",
                ]
                let first = try await ServiceProcess.start(database: database, arguments: arguments)
                let (_, taskIDs) = try await submitJob(
                    first, tasks: (0..<10).map { "\(target.baseURL)/ok/\($0)" },
                    extra: #","callback_url":"\#(receiver.baseURL)/fail/1""#)
                #expect(try await eventually { Set(try await receiver.calls().map(\.id)).count == 11 })
                first.signal(SIGKILL)
                _ = await first.waitForExit()
                let second = try await ServiceProcess.start(database: database, arguments: arguments)
                defer { Task { await second.terminate() } }
                let delivered = try await eventually(timeout: .seconds(30)) {
                    Set(try await receiver.calls().filter { $0.status == 200 }.map(\.id)).count == taskIDs.count + 1
                }
                #expect(delivered)
            }
        }
    }

    @Test func aTaskFinishedPayloadIsTheTaskAsTheAPIShowsItWithoutRequestAndLog() async throws {
        try await withTargetAndReceiver { target, receiver in
            try await withRunningService(arguments: quickWebhooks) { service, _ in
                _ = try await submitJob(
                    service, tasks: ["\(target.baseURL)/cookies", "\(target.baseURL)/status/404"],
                    extra: #","callback_url":"\#(receiver.baseURL)/ok","callback_events":["task.finished"]"#)
                let arrived = try await eventually { try await receiver.calls().count == 2 }
                #expect(arrived)
                for call in try await receiver.calls() {
                    let id = try #require(call.taskID)
                    guard case .object(let shown)? = try await TestClient.get("\(service.baseURL)/v1/tasks/\(id)").json
                    else {
                        Issue.record("GET /v1/tasks/\(id) is not an object")
                        continue
                    }
                    let expected = JSONValue.object(
                        shown.filter { !Representation.taskFieldsLeftOutOfEvents.contains($0.0) })
                    #expect(call.data == expected, "task \(id)")
                }
            }
        }
    }

    @Test func deliveriesToOneSlowReceiverRunSideBySide() async throws {
        try await withTargetAndReceiver { target, receiver in
            try await withRunningService(arguments: quickWebhooks) { service, _ in
                // 20 events to a receiver that takes 2 s over each: more than a client's default of
                // 8 connections per host, fewer than the dispatcher's 32 deliveries in flight.
                let (_, taskIDs) = try await submitJob(
                    service, tasks: (0..<20).map { "\(target.baseURL)/ok/\($0)" },
                    extra: #","callback_url":"\#(receiver.baseURL)/hang/2000","callback_events":["task.finished"]"#)
                let delivered = try await eventually(timeout: .seconds(60)) {
                    Set(try await receiver.calls().filter { $0.status == 200 }.compactMap(\.taskID)) == Set(taskIDs)
                }
                #expect(delivered)
                #expect(try await receiver.maxInFlight() > 8)
            }
        }
    }

    @Test func aGeneratedSecretIsKeptAndShownByTheCommand() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withRunningService(arguments: ["--per-host-concurrency", "64"]) { service, database in
            let secret = try ChildProcess.run(
                .init(
                    executable: try FetchqBinary.path, arguments: ["webhook-secret", "--db", database.path],
                    standardOutput: .pipe)
            ).outputText.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(secret.hasPrefix("whsec_"))
            let receiver = try await WebhookReceiver(secret: secret)
            defer { receiver.stop() }
            let (jobID, _) = try await submitJob(
                service, tasks: ["\(target.baseURL)/ok/a"],
                extra: #","callback_url":"\#(receiver.baseURL)/ok","callback_events":["job.finished"]"#)
            #expect(try await eventually { try await receiver.calls().count == 1 })
            #expect(try await receiver.calls().first?.valid == true)
            let job = try await TestClient.get("\(service.baseURL)/v1/jobs/\(jobID)")
            #expect(job.status == 200)
            #expect(!job.text.contains(secret), "the secret is never returned by the API")
        }
    }

    @Test func aJobsOwnSecretSignsItsWebhooks() async throws {
        let ownSecret = "whsec_" + Data((0..<32).map { UInt8($0) }).base64EncodedString()
        try await withTargetAndReceiver(secret: ownSecret) { target, receiver in
            try await withRunningService(arguments: quickWebhooks) { service, _ in
                let (jobID, _) = try await submitJob(
                    service, tasks: ["\(target.baseURL)/ok/a"],
                    extra: #","callback_url":"\#(receiver.baseURL)/ok","callback_secret":"\#(ownSecret)""#)
                #expect(try await eventually { try await receiver.calls().count == 2 })
                let allValid = try await receiver.calls().allSatisfy { $0.valid }
                #expect(allValid)
                let job = try await TestClient.get("\(service.baseURL)/v1/jobs/\(jobID)")
                #expect(!job.text.contains(ownSecret))
                #expect(job.json?["callback_url"]?.stringValue == "\(receiver.baseURL)/ok")
            }
        }
    }
}
