import API
import Engine
import Foundation
import Store
import TestSupport
import Testing

@Suite struct SSRFGuardTests {
    @Test(arguments: [
        "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
        "224.0.0.1", "255.255.255.255", "::1", "[::1]", "::", "fd00::1", "fe80::1", "ff02::1", "::ffff:127.0.0.1",
        "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe",
    ])
    func privateAndReservedAddressesAreRefused(_ address: String) {
        #expect(DestinationGuard().refuses(address))
        #expect(!DestinationGuard(allowPrivateTargets: true).refuses(address))
    }

    @Test(arguments: ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "example.com", "::ffff:8.8.8.8"])
    func publicAddressesAndNamesPassTheLiteralCheck(_ address: String) {
        #expect(!DestinationGuard().refuses(address))
    }

    @Test func anAllowedRangeIsOpenedAndNothingElse() throws {
        let guardWithRange = DestinationGuard(allowed: [try #require(DestinationGuard.CIDR("10.1.0.0/16"))])
        #expect(!guardWithRange.refuses("10.1.2.3"))
        #expect(guardWithRange.refuses("10.2.0.1"))
        #expect(guardWithRange.refuses("127.0.0.1"))
    }

    @Test(arguments: ["", "/", "/16", "10.1.0.0/", "10.1.0.0/33", "10.1.0/16", "::1/129", "nonsense"])
    func aMalformedRangeIsRefusedNotGuessed(_ text: String) {
        #expect(DestinationGuard.CIDR(text) == nil)
    }

    @Test func aTaskOrCallbackToAPrivateLiteralIsRefusedAtSubmit() async throws {
        try await withAPI(.forTests(destinations: DestinationGuard())) { base, store in
            let task = try await TestClient.post(
                "\(base)/v1/jobs",
                json: #"{"tasks":[{"url":"http://example.test/"},{"url":"http://169.254.169.254/latest/meta-data"}]}"#)
            #expect(task.status == 422)
            #expect(task.json?["code"] == "blocked_destination")
            #expect(task.json?["field"] == "tasks[1].url")
            let callback = try await TestClient.post(
                "\(base)/v1/jobs",
                json: #"{"tasks":[{"url":"http://example.test/"}],"callback_url":"http://[::1]:9/hook"}"#)
            #expect(callback.status == 422)
            #expect(callback.json?["field"] == "callback_url")
            #expect(try store.totals().total == 0)
        }
    }
}

@Suite struct AuthenticationTests {
    let configuration = FetchqAPI.Configuration.forTests(apiTokens: ["old-token", "new-token"])

    @Test func v1NeedsABearerTokenAndEitherRotatedTokenWorks() async throws {
        try await withAPI(configuration) { base, _ in
            let anonymous = try await TestClient.post("\(base)/v1/jobs", json: exampleJob)
            #expect(anonymous.status == 401)
            #expect(anonymous.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
            #expect(anonymous.headers["content-type"] == "application/problem+json")
            let wrong = try await TestClient.request(
                "GET", "\(base)/v1/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV", headers: [("authorization", "Bearer nope")])
            #expect(wrong.status == 401)
            for token in ["old-token", "new-token"] {
                let accepted = try await TestClient.request(
                    "POST", "\(base)/v1/jobs", json: exampleJob, headers: [("authorization", "Bearer \(token)")])
                #expect(accepted.status == 201)
            }
        }
    }

    @Test func healthAndTheContractStayOpen() async throws {
        try await withAPI(configuration) { base, _ in
            let health = try await TestClient.get("\(base)/healthz")
            let document = try await TestClient.get("\(base)/openapi.yaml")
            #expect(health.status == 200)
            #expect(document.status == 200)
        }
    }
}
