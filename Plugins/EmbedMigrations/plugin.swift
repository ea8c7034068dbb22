import Foundation
import PackagePlugin

/// Embeds package files that the binary must carry: `migrations/*.sql` into `Store` (as
/// `Migration.embedded`) and `openapi.yaml` into `API` (as `OpenAPIDocument.text`).
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let tool = try context.tool(named: "EmbedMigrationsTool").url
        let package = context.package.directoryURL
        switch target.name {
        case "Store":
            let files = try FileManager.default.contentsOfDirectory(
                at: package.appending(path: "migrations"), includingPropertiesForKeys: nil
            )
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
            let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
            return [
                .buildCommand(
                    displayName: "Embedding \(files.count) migrations", executable: tool,
                    arguments: ["migrations", output.path] + files.map(\.path), inputFiles: files,
                    outputFiles: [output])
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
