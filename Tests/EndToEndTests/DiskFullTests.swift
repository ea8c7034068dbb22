import Foundation
import JSON
import Store
import StoreSQLite
import TestSupport
import Testing

/// A full disk under the database: submissions are refused with 507, health says degraded, nothing
/// is half-stored, and once space is back everything accepted finishes.
@Suite(.serialized) struct DiskFullTests {
    @Test func aFullDiskAnswers507UntilSpaceIsFreedAndLosesNothing() async throws {
        let target = try TargetServer()
        defer { Task { await target.stop() } }
        try await withSmallDisk(megabytes: 64) { disk in
            let database = disk.appending(path: "fetchq.db")
            let service = try await ServiceProcess.start(database: database, arguments: ["--processes", "1"])
            defer { Task { await service.terminate() } }
            // Leave about a megabyte: room for a few jobs of 1,000 tasks, not for many. The disk is
            // 64 MB so that what the filler gives back outlasts the write-ahead log's growth while
            // 3,000 tasks finish at once (measured up to 14 MB), which on a smaller disk refills it.
            let filler = disk.appending(path: "filler")
            let room = try freeBytes(at: disk) - (1 << 20)
            #expect(FileManager.default.createFile(atPath: filler.path, contents: Data(count: Int(max(0, room)))))
            let tasks = (0..<1_000).map { #"{"url":"\#(target.baseURL)/ok/\#($0)"}"# }.joined(separator: ",")
            let job = #"{"tasks":[\#(tasks)]}"#

            var accepted: [String] = []
            var refusal: TestResponse?
            for _ in 0..<40 {
                let response = try await TestClient.post("\(service.baseURL)/v1/jobs", json: job)
                if response.status == 201, let id = response.json?["id"]?.stringValue {
                    accepted.append(id)
                } else {
                    refusal = response
                    break
                }
            }
            #expect(!accepted.isEmpty)
            let refused = try #require(refusal)
            #expect(refused.status == 507)
            #expect(refused.headers["content-type"] == "application/problem+json")
            #expect(refused.json?["code"]?.stringValue == "insufficient_storage")
            #expect(Int(refused.headers["retry-after"] ?? "") ?? 0 > 0)

            // The writer gives the write-ahead log's space back during an episode, so a later job may
            // fit again: fill whatever comes back, until the store refuses twice in a row.
            var fillers = [filler]
            var refusedInARow = 1
            for _ in 0..<20 where refusedInARow < 2 {
                fillers += fillRemainingSpace(of: disk)
                let response = try await TestClient.post("\(service.baseURL)/v1/jobs", json: job)
                if response.status == 201, let id = response.json?["id"]?.stringValue {
                    accepted.append(id)
                    refusedInARow = 0
                } else {
                    #expect(response.status == 507)
                    refusedInARow += 1
                }
            }
            #expect(refusedInARow == 2)

            let health = try await TestClient.get("\(service.baseURL)/healthz")
            #expect(health.status == 503)
            #expect(health.json?["status"]?.stringValue == "degraded")
            #expect(health.json?.at("store.status")?.stringValue == "disk_full")
            // Said once for the episode, not once per refused request.
            let said = service.log.components(separatedBy: "the database's disk is full").count
            for _ in 0..<5 {
                #expect(try await TestClient.post("\(service.baseURL)/v1/jobs", json: job).status == 507)
            }
            #expect(service.log.components(separatedBy: "the database's disk is full").count == said)

            for file in fillers { try? FileManager.default.removeItem(at: file) }
            #expect(
                try await eventually(timeout: .seconds(10)) {
                    try await TestClient.get("\(service.baseURL)/healthz").status == 200
                })
            let afterwards = try await TestClient.post("\(service.baseURL)/v1/jobs", json: job)
            #expect(afterwards.status == 201)
            if let id = afterwards.json?["id"]?.stringValue { accepted.append(id) }
            for id in accepted {
                let finished = try await eventually(timeout: .seconds(30)) {
                    let job = try await TestClient.get("\(service.baseURL)/v1/jobs/\(id)").json
                    return job?["state"]?.stringValue == "completed"
                        && job?.at("counts.succeeded")?.intValue == 1_000
                }
                let last = try await TestClient.get("\(service.baseURL)/v1/jobs/\(id)").text
                #expect(finished, "job \(id) did not finish: \(last)\n\(service.log.suffix(3_000))")
            }
            await service.terminate()
            // Nothing half-stored: exactly the accepted jobs' tasks are in the database.
            let store = try SQLiteStore(path: database.path, logger: .quiet)
            let totals = try store.totals()
            #expect(totals.succeeded == accepted.count * 1_000)
            #expect(totals.queued + totals.running + totals.failed + totals.canceled == 0)
        }
    }
}

/// Writes files into `folder` until its disk is full (1 MiB, then 4 KiB pieces); answers them.
func fillRemainingSpace(of folder: URL) -> [URL] {
    var files: [URL] = []
    for size in [1 << 20, 4_096] {
        while true {
            let file = folder.appending(path: "filler-\(UUID().uuidString)")
            guard FileManager.default.createFile(atPath: file.path, contents: Data(count: size)) else { break }
            files.append(file)
        }
    }
    return files
}
