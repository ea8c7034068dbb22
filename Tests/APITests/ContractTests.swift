import Engine
import Foundation
import Store
import TestSupport
import Testing

@testable import API

/// Keeps the Swift enums, the SQL schema and openapi.yaml saying the same thing.
@Suite struct ContractTests {
    let document: String
    /// The SQLite engine's migrations, and the PostgreSQL engine's, each joined in order.
    let schema: String
    let postgresSchema: String

    init() throws {
        document = try String(contentsOf: packageRoot.appending(path: "openapi.yaml"), encoding: .utf8)
        schema = try Self.sqlFiles(in: packageRoot.appending(path: "migrations"))
        postgresSchema = try Self.sqlFiles(in: packageRoot.appending(path: "migrations/postgres"))
    }

    private static func sqlFiles(in folder: URL) throws -> String {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
            .map { try String(contentsOf: folder.appending(path: $0), encoding: .utf8) }.joined()
    }

    /// The values of `enum:` in the named schema of openapi.yaml.
    func enumValues(ofSchema name: String) -> [String] {
        let lines = document.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "\(name):" }) else {
            return []
        }
        var values: [String] = []
        var inEnum = false
        for line in lines[(start + 1)...] {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("enum:") {
                inEnum = true
                let inline = trimmed.dropFirst("enum:".count).trimmingCharacters(in: .whitespaces)
                if inline.hasPrefix("[") {
                    return inline.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",")
                        .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"'")) }
                }
                continue
            }
            if inEnum {
                guard trimmed.hasPrefix("- ") else { break }
                values.append(trimmed.dropFirst(2).trimmingCharacters(in: CharacterSet(charactersIn: " \"'")))
            }
        }
        return values
    }

    @Test func taskStatesAreTheSameInSwiftSQLAndOpenAPI() throws {
        let swift = TaskState.allCases.map(\.rawValue)
        #expect(enumValues(ofSchema: "TaskState") == swift)
        for (engine, text) in [("SQLite", schema), ("PostgreSQL", postgresSchema)] {
            let check = try #require(text.range(of: "CHECK (state IN ("), "no state CHECK in the \(engine) schema")
            let list = text[check.upperBound...].prefix { $0 != ")" }
            let sql = list.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " '")) }
            #expect(sql == swift, "\(engine)")
        }
    }

    @Test func everyOutcomeErrorCodeIsDocumentedInOpenAPIAndTheReadme() throws {
        // The codes a worker reports, and those the store writes for attempts that never reported.
        let codes = FetchFailure.Kind.allCases.map(\.rawValue) + ["worker_lost", "lease_expired", "node_lost"]
        let documented = Set(enumValues(ofSchema: "Outcome"))
        let readme = try String(contentsOf: packageRoot.appending(path: "README.md"), encoding: .utf8)
        for code in codes {
            #expect(documented.contains(code), "\(code) is missing from the Outcome error enum of openapi.yaml")
            #expect(readme.contains("`\(code)`"), "\(code) is missing from the README")
        }
    }

    @Test func jobStatesAreTheSameInSwiftAndOpenAPI() {
        #expect(enumValues(ofSchema: "JobState") == JobState.allCases.map(\.rawValue))
    }

    @Test func waitingReasonsAreTheSameInSwiftAndOpenAPI() {
        #expect(enumValues(ofSchema: "WaitingFor") == Waiting.Reason.allCases.map(\.rawValue))
    }

    @Test func webhookEventsAndDeliveryStatesAreTheSameInSwiftSQLAndOpenAPI() throws {
        #expect(enumValues(ofSchema: "EventType") == EventType.allCases.map(\.rawValue))
        #expect(enumValues(ofSchema: "DeliveryState") == DeliveryState.allCases.map(\.rawValue))
        for state in DeliveryState.allCases { #expect(schema.contains("'\(state.rawValue)'")) }
        for event in EventType.allCases { #expect(schema.contains("'\(event.rawValue)'")) }
    }

    /// Every operation under `paths:` in openapi.yaml: the method, upper-cased, and the path template.
    func documentedOperations() -> [(method: String, path: String)] {
        let methods: Set = ["get:", "head:", "post:", "put:", "patch:", "delete:"]
        var operations: [(method: String, path: String)] = []
        var currentPath: String?
        var inPaths = false
        for line in document.split(separator: "\n").map(String.init) {
            if line == "paths:" {
                inPaths = true
                continue
            }
            if inPaths, !line.hasPrefix(" "), !line.isEmpty { inPaths = false }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") { currentPath = String(line.dropFirst(2).dropLast()) }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("    "), !line.hasPrefix("     "), methods.contains(trimmed), let path = currentPath {
                operations.append((method: trimmed.dropLast().uppercased(), path: path))
            }
        }
        return operations
    }

    /// A template with its parameters' names dropped: openapi.yaml says `{jobId}`, the table `{id}`.
    private func shape(_ template: String) -> String {
        template.replacingOccurrences(of: #"\{[A-Za-z_]+\}"#, with: "{}", options: .regularExpression)
    }

    @Test func theRouteTableAndOpenAPIListTheSameOperations() {
        let documented = Set(documentedOperations().map { "\($0.method) \(shape($0.path))" })
        let routed = Set(FetchqAPI.routes.operations.map { "\($0.method) \(shape($0.template))" })
        #expect(documented.count >= 30)
        #expect(routed.subtracting(documented).sorted() == [], "routed, but missing from openapi.yaml")
        #expect(documented.subtracting(routed).sorted() == [], "in openapi.yaml, but not in the route table")
        let templates = FetchqAPI.routes.paths.map { shape($0.template) }
        #expect(Set(templates).count == templates.count, "two templates of the same shape")
    }

    @Test func everyDocumentedOperationIsRoutedByTheServer() async throws {
        // Each path and method in openapi.yaml, with a made-up id: the server must know the route
        // (a 404 then names the resource, not the route) and accept the method (never 405).
        let operations = documentedOperations()
        #expect(operations.count >= 9)
        try await withAPI { base, _ in
            for (method, path) in operations {
                let concrete = path.replacingOccurrences(
                    of: #"\{[A-Za-z_]+\}"#, with: "01ARZ3NDEKTSV4RRFFQ69G5FAV", options: .regularExpression)
                let response = try await TestClient.request(
                    method, base + concrete, json: method == "POST" ? exampleJob : nil)
                #expect(response.status != 405, "\(method) \(path)")
                if response.status == 404, method != "HEAD" {
                    let detail = response.json?["detail"]?.stringValue ?? ""
                    let routeUnknown = detail.contains("route")
                    #expect(!routeUnknown, "\(method) \(path): \(detail)")
                }
            }
        }
    }
}
