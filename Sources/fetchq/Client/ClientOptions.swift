import ArgumentParser
import Foundation

/// Where the client's commands find the service: `--server` / `FETCHQ_SERVER`, `--token` / `FETCHQ_TOKEN`.
struct ClientOptions: ParsableArguments {
    @Option(help: "The service's base URL (default: $FETCHQ_SERVER, else http://127.0.0.1:8080).")
    var server: String?

    @Option(help: "Bearer token for the API (default: $FETCHQ_TOKEN).")
    var token: String?

    var baseURL: String {
        let url = server ?? ProcessInfo.processInfo.environment["FETCHQ_SERVER"] ?? "http://127.0.0.1:8080"
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    var bearer: String? {
        token ?? ProcessInfo.processInfo.environment["FETCHQ_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// The exit statuses of the client's commands, as `--help` documents them.
enum ClientExit {
    /// Every task succeeded (or the command did what it was asked).
    static let success: Int32 = 0
    /// The job completed, but some of its tasks failed or were canceled.
    static let tasksFailed: Int32 = 1
    /// Bad input, a connection error, or an error answer from the service.
    static let trouble: Int32 = 2

    static let help = """
        Exit status: 0 when every task succeeded; 1 when the job completed with failed or canceled \
        tasks; 2 for bad input, connection and service errors; 64 for command-line usage errors.
        """
}

/// A failure of a client command, told to the user in one line on stderr (exit status 2).
struct ClientFailure: Error, CustomStringConvertible {
    let description: String
    /// The service could not be reached after it had answered once (it may be restarting): a
    /// write is tried again.
    let retryable: Bool

    init(_ description: String, retryable: Bool = false) {
        self.description = description
        self.retryable = retryable
    }
}

/// Writes to stderr, where everything but a command's result goes.
enum Console {
    static func error(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Runs a client command's body: a `ClientFailure` (or any unexpected error) is reported on
    /// stderr and becomes exit status 2.
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Console.error("fetchq: \(error)")
            throw ExitCode(ClientExit.trouble)
        }
    }
}
