import Foundation
import JSON
import TestSupport
import Testing

@testable import API
@testable import Store

/// `GET /v1/nodes` on SQLite: one node, this one, holding the tasks that run now. (The PostgreSQL
/// cluster's list is checked in `ClusterTests`.)
@Suite struct NodesTests {
    @Test func onSQLiteTheListIsThisOneNode() async throws {
        try await withAPI { base, store in
            let job = try await store.submit(
                NewJob(
                    tasks: (0..<3).map {
                        NewTask(
                            request: FetchRequest(url: "http://example.test/\($0)"), host: "example.test",
                            timeoutMillis: 1_000)
                    }, timeoutMillis: 5_000),
                now: WallClock.nowMillis())
            _ = try await store.claim(limit: 2, now: WallClock.nowMillis() + 1, leaseMarginMillis: 1_000)
            let response = try await TestClient.get("\(base)/v1/nodes")
            #expect(response.status == 200)
            guard case .array(let nodes)? = response.json?["nodes"] else {
                Issue.record("no nodes in \(response.text)")
                return
            }
            #expect(nodes.count == 1)
            #expect(nodes.first?["id"]?.stringValue == "local")
            #expect(nodes.first?["tasks_held"]?.intValue == 2)
            #expect(nodes.first?["leader"] == .bool(true))
            #expect(job.taskIDs.count == 3)
        }
    }
}
