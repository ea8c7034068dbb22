import Foundation
import TestSupport

/// One job as the API shows it: `GET /v1/jobs/{id}`, and its tasks list read page by page.
struct APIJobView {
    let state: String
    let counts: StateCounts
    let listed: StateCounts
    let listedIDs: Set<String>
    /// Listed tasks whose `attempts` exceed their `max_attempts`.
    let overMaxAttempts: Int

    static func read(_ job: SoakJob, base: String) async throws -> APIJobView {
        let answer = try await TestClient.get("\(base)/v1/jobs/\(job.id)")
        guard answer.status == 200, let json = answer.json else {
            throw ServiceProcessError("GET /v1/jobs/\(job.id): \(answer.status)")
        }
        var counts = StateCounts()
        for state in taskStates { counts[state] = json.at("counts.\(state)")?.intValue ?? 0 }
        var listed = StateCounts()
        var ids = Set<String>()
        var overMax = 0
        var cursor: String?
        repeat {
            let query = cursor.map { "&cursor=\($0)" } ?? ""
            let page = try await TestClient.get("\(base)/v1/jobs/\(job.id)/tasks?limit=1000\(query)")
            guard page.status == 200, let json = page.json else {
                throw ServiceProcessError("GET /v1/jobs/\(job.id)/tasks: \(page.status)")
            }
            for task in json["tasks"]?.arrayValue ?? [] {
                listed[task["state"]?.stringValue ?? "?", default: 0] += 1
                ids.insert(task["id"]?.stringValue ?? "")
                if (task["attempts"]?.intValue ?? 0) > (task["max_attempts"]?.intValue ?? 0) { overMax += 1 }
            }
            cursor = json["next_cursor"]?.stringValue
        } while cursor != nil
        return APIJobView(
            state: json["state"]?.stringValue ?? "", counts: counts, listed: listed, listedIDs: ids,
            overMaxAttempts: overMax)
    }
}
