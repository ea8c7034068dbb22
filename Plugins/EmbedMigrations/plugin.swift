import Foundation
import PackagePlugin

/// Embeds package files that the binary must carry: `migrations/*.sql` into `Store` (as
/// `Migration.embedded`), `migrations/postgres/*.sql` into `StorePostgres` (as
/// `PostgresMigration.embedded`) and `openapi.yaml` into `API` (as `OpenAPIDocument.text`).
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let tool = try context.tool(named: "EmbedMigrationsTool").url
        let package = context.package.directoryURL
        switch target.name {
        case "Store", "StorePostgres":
            let postgres = target.name == "StorePostgres"
            let folder = package.appending(path: postgres ? "migrations/postgres" : "migrations")
            let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "sql" }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
            let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
            return [
                .buildCommand(
                    displayName: "Embedding \(files.count) migrations into \(target.name)", executable: tool,
                    arguments: [postgres ? "postgres-migrations" : "migrations", output.path] + files.map(\.path),
                    inputFiles: files, outputFiles: [output])
            ]
        case "API":
            let document = package.appending(path: "openapi.yaml")
            let output = context.pluginWorkDirectoryURL.appending(path: "OpenAPIDocument.swift")
            return [
                .buildCommand(
                    displayName: "Embedding openapi.yaml", executable: tool,
                    arguments: ["text", output.path, "OpenAPIDocument", document.path], inputFiles: [document],
                    outputFiles: [output])
            ]
        default:
            return []
        }
    }
}
