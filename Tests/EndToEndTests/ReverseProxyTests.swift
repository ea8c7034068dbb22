import Foundation
import Spawn
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The README's nginx configuration ("Exposing fetchq"), run in front of a real `fetchq serve`.
@Suite struct ReverseProxyTests {
    @Test func theReadmesNginxConfigurationPassesSubmissionsThrough() async throws {
        let nginx = "/usr/sbin/nginx"
        // Not skipped when missing: `make test` installs it (scripts/install-deps.sh nginx).
        try #require(FileManager.default.isExecutableFile(atPath: nginx), "nginx is not installed")
        try await withRunningService(arguments: ["--max-connections-per-ip", "0"]) { service, _ in
            try await withTemporaryDirectory { prefix in
                let port = try #require(freePort())
                let site = try readmeNginxConfiguration()
                    .replacing("server 127.0.0.1:8080;", with: "server 127.0.0.1:\(service.port);")
                    .replacing("listen 80;", with: "listen 127.0.0.1:\(port);")
                let configuration = """
                    daemon off;
                    master_process off;
                    worker_processes 1;
                    pid \(prefix.path)/nginx.pid;
                    error_log \(prefix.path)/error.log warn;
                    events { worker_connections 512; }
                    http {
                        access_log off;
                        client_body_temp_path \(prefix.path)/body;
                        proxy_temp_path \(prefix.path)/proxy;
                        fastcgi_temp_path \(prefix.path)/fastcgi;
                        uwsgi_temp_path \(prefix.path)/uwsgi;
                        scgi_temp_path \(prefix.path)/scgi;
                    \(site)
                    }
                    """
                let file = prefix.appending(path: "nginx.conf")
                try Data(configuration.utf8).write(to: file)
                let process = try ChildProcess.spawn(
                    .init(
                        executable: nginx,
                        arguments: [
                            "-p", prefix.path, "-c", file.path, "-e", prefix.appending(path: "error.log").path,
                        ],
                        standardOutput: .null, standardError: .inherit, newProcessGroup: true))
                defer {
                    process.signal(SIGKILL)
                    _ = process.waitUntilExit()
                }
                let base = "http://127.0.0.1:\(port)"
                let up = await eventually(timeout: .seconds(60), every: .milliseconds(50)) {
                    (try? await TestClient.get("\(base)/healthz").status) == 200 || !process.isRunning
                }
                #expect(up && process.isRunning, "nginx did not start: \(errorLog(prefix))")
                let submitted = try await TestClient.post(
                    "\(base)/v1/jobs", json: #"{"tasks": [{"url": "http://127.0.0.1:9/x"}]}"#)
                #expect(submitted.status == 201)
                let id = try #require(submitted.json?["id"]?.stringValue)
                let job = try await TestClient.get("\(base)/v1/jobs/\(id)")
                #expect(job.status == 200)
                #expect(job.json?["task_count"] == 1)
                // The service logs the capacity it chose.
                #expect(service.log.contains("http.max_connections="))
            }
        }
    }
}

/// The nginx block of the README's "Exposing fetchq" section.
private func readmeNginxConfiguration() throws -> String {
    let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "README.md")
    let text = try String(contentsOf: readme, encoding: .utf8)
    let section = try #require(text.components(separatedBy: "## Exposing fetchq").dropFirst().first)
        .components(separatedBy: "\n## ")[0]
    let block = try #require(section.components(separatedBy: "```nginx\n").dropFirst().first)
    return block.components(separatedBy: "```")[0]
}

private func errorLog(_ prefix: URL) -> String {
    (try? String(contentsOf: prefix.appending(path: "error.log"), encoding: .utf8)) ?? ""
}

/// A port nothing listens on now (the kernel's pick for a socket bound to port 0, then closed).
private func freePort() -> Int? {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { return nil }
    defer { _ = Glibc.close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
        }
    }
    return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
}
