import Foundation
import PackagePlugin

/// Embeds package files that the binary must carry: `migrations/*.sql` into `StoreSQLite` (as
/// `Migration.embedded`), `migrations/postgres/*.sql` into `StorePostgres` (as
/// `PostgresMigration.embedded`), and `openapi.yaml` and the dashboard's `dashboard/*` files into `API`
/// (as `OpenAPIDocument.text`, `DashboardPage.text`, `DashboardStyle.text`, `DashboardScript.text`).
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let tool = try context.tool(named: "EmbedMigrationsTool").url
        let package = context.package.directoryURL
        switch target.name {
        case "StoreSQLite", "StorePostgres":
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
            let texts = [
                ("openapi.yaml", "OpenAPIDocument"), ("dashboard/index.html", "DashboardPage"),
                ("dashboard/dashboard.css", "DashboardStyle"), ("dashboard/dashboard.js", "DashboardScript"),
            ]
            return texts.map { file, type in
                let input = package.appending(path: file)
                let output = context.pluginWorkDirectoryURL.appending(path: "\(type).swift")
                return .buildCommand(
                    displayName: "Embedding \(file)", executable: tool,
                    arguments: ["text", output.path, type, input.path], inputFiles: [input], outputFiles: [output])
            }
        default:
            return []
        }
    }
}
