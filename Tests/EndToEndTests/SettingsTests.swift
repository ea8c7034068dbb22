import Foundation
import Spawn
import TestSupport
import Testing

@testable import fetchq

/// A value `fetchq serve` must refuse, and where it is given.
struct BadSetting: Sendable, CustomTestStringConvertible {
    var arguments: [String] = []
    var environment: [String: String] = [:]
    /// The flag or variable the message must name.
    let name: String
    /// The bad value the message must show.
    let value: String

    var testDescription: String { "\(name) \(value)" }
}

/// `fetchq …` as a user runs it, with none of this process's `FETCHQ_*` variables but `extra`.
func runFetchq(
    _ arguments: [String], environment extra: [String: String] = [:], standardInput: ChildProcess.Stream = .null
) throws -> ChildProcess.Completed {
    var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("FETCHQ_") }
    environment.merge(extra) { _, new in new }
    return try ChildProcess.run(
        .init(
            executable: try FetchqBinary.path, arguments: arguments, environment: environment,
            standardInput: standardInput, standardOutput: .pipe, standardError: .pipe))
}

/// The rows of the README's Configuration table: flag, variable, and the default as shown.
func readmeSettings() throws -> [(flag: String, variable: String, shownDefault: String)] {
    let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "README.md")
    let text = try String(contentsOf: readme, encoding: .utf8)
    let section = try #require(text.components(separatedBy: "## Configuration").dropFirst().first)
        .components(separatedBy: "\n## ")[0]
    return section.split(separator: "\n").filter { $0.hasPrefix("| `--") }.map { row in
        let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces).replacing("`", with: "") }
        let variable = cells[1].split(separator: "=")[0]
        let shown = cells[2].components(separatedBy: " (")[0]
        return (cells[0], String(variable), shown)
    }
}

@Suite struct SettingsTests {
    static let badSettings: [BadSetting] = [
        BadSetting(arguments: ["--allow-cidr", "10.0.0.0/99"], name: "--allow-cidr", value: "10.0.0.0/99"),
        BadSetting(
            arguments: ["--allow-cidr", "10.1.0.0/16", "--allow-cidr=nonsense"], name: "--allow-cidr", value: "nonsense"
        ),
        BadSetting(
            environment: ["FETCHQ_ALLOW_CIDR": "10.1.0.0/16,nonsense"], name: "FETCHQ_ALLOW_CIDR", value: "nonsense"),
        BadSetting(arguments: ["--port", "70000"], name: "--port", value: "70000"),
        BadSetting(arguments: ["--max-connections-per-ip=-1"], name: "--max-connections-per-ip", value: "-1"),
        BadSetting(environment: ["FETCHQ_PORT": "80a"], name: "FETCHQ_PORT", value: "80a"),
        BadSetting(environment: ["FETCHQ_CONCURRENCY": "0"], name: "FETCHQ_CONCURRENCY", value: "0"),
        BadSetting(environment: ["FETCHQ_INSECURE_NO_AUTH": "maybe"], name: "FETCHQ_INSECURE_NO_AUTH", value: "maybe"),
        BadSetting(environment: ["FETCHQ_LOG_LEVEL": "loud"], name: "FETCHQ_LOG_LEVEL", value: "loud"),
        BadSetting(
            arguments: ["--webhook-retry-schedule-ms", "5000,soon"], name: "--webhook-retry-schedule-ms",
            value: "5000,soon"),
        BadSetting(arguments: ["--retention", "7w"], name: "--retention", value: "7w"),
        BadSetting(environment: ["FETCHQ_RETENTION": "-1d"], name: "FETCHQ_RETENTION", value: "-1d"),
        BadSetting(arguments: ["--metrics", "no"], name: "--metrics", value: "no"),
        BadSetting(environment: ["FETCHQ_METRICS": "1"], name: "FETCHQ_METRICS", value: "1"),
        BadSetting(arguments: ["--ca-file", "/nonexistent/ca.pem"], name: "--ca-file", value: "/nonexistent/ca.pem"),
        BadSetting(
            environment: ["FETCHQ_CA_FILE": "/nonexistent/ca.pem"], name: "FETCHQ_CA_FILE", value: "/nonexistent/ca.pem"
        ),
        // A file that is there but holds no certificate: this very source file.
        BadSetting(arguments: ["--ca-file", #filePath], name: "--ca-file", value: #filePath),
    ]

    @Test func retentionTakesADurationInSecondsMinutesHoursOrDays() throws {
        #expect(try SettingValue.duration("0") == 0)
        #expect(try SettingValue.duration("90s") == 90_000)
        #expect(try SettingValue.duration("30m") == 1_800_000)
        #expect(try SettingValue.duration("12h") == 43_200_000)
        #expect(try SettingValue.duration("7d") == 604_800_000)
        for bad in ["", "7", "d", "1.5h", "7 d", "-1d", "99999999d"] {
            #expect(throws: InvalidValue.self) { try SettingValue.duration(bad) }
        }
        let defaults = try ServiceConfiguration(SettingValues(Settings.parse([]), environment: Environment([:])))
        #expect(defaults.retentionMillis == 604_800_000)
    }

    @Test func metricsAreRecordedUnlessTurnedOff() throws {
        func recordsMetrics(_ arguments: [String], _ variables: [String: String] = [:]) throws -> Bool {
            try ServiceConfiguration(SettingValues(Settings.parse(arguments), environment: Environment(variables)))
                .recordsMetrics
        }
        #expect(try recordsMetrics([]))
        #expect(try !recordsMetrics(["--metrics", "off"]))
        #expect(try !recordsMetrics([], ["FETCHQ_METRICS": "off"]))
        #expect(try recordsMetrics(["--metrics=on"], ["FETCHQ_METRICS": "off"]))
    }

    @Test(arguments: badSettings)
    func aBadValueStopsServeWithAMessageNamingItAndTheValue(_ bad: BadSetting) throws {
        // The database cannot be opened: a value accepted by mistake still stops serve, but with
        // another message.
        let run = try runFetchq(
            ["serve", "--db", "/nonexistent/never.db"] + bad.arguments, environment: bad.environment)
        #expect(run.termination != .exited(0))
        #expect(run.errorText.contains("invalid value \"\(bad.value)\" for \(bad.name)"), "\(run.errorText)")
    }

    @Test func aBadAllowCIDRStopsAWorkerAndAGoodOneDoesNot() throws {
        let bad = try runFetchq(["worker", "--allow-cidr", "10.1.0.0/16", "--allow-cidr", "bogus"])
        #expect(bad.termination != .exited(0))
        #expect(bad.errorText.contains("'bogus'"), "\(bad.errorText)")
        #expect(bad.errorText.contains("--allow-cidr"))
        // With its standard input closed at once, a worker that started ends at once, and well.
        let good = try runFetchq(["worker", "--allow-cidr", "10.1.0.0/16", "--allow-cidr", "fd00::/8"])
        #expect(good.termination == .exited(0), "\(good.errorText)")
    }

    @Test func aCAFileThatCannotBeUsedStopsServeAndAWorkerSayingWhy() throws {
        let missing = try runFetchq(["serve", "--db", "/nonexistent/never.db", "--ca-file", "/nonexistent/ca.pem"])
        #expect(missing.termination != .exited(0))
        #expect(
            missing.errorText.contains(
                "invalid value \"/nonexistent/ca.pem\" for --ca-file: expected a PEM file of certificate authorities"
                    + " (no such file)"), "\(missing.errorText)")
        let notPEM = try runFetchq(["serve", "--db", "/nonexistent/never.db", "--ca-file", #filePath])
        #expect(notPEM.errorText.contains("(no PEM certificate in it)"), "\(notPEM.errorText)")
        let worker = try runFetchq(["worker", "--ca-file", "/nonexistent/ca.pem"])
        #expect(worker.termination != .exited(0))
        #expect(worker.errorText.contains("--ca-file"), "\(worker.errorText)")
    }

    @Test func anUnknownOptionOrAMissingValueStopsServe() throws {
        let unknown = try runFetchq(["serve", "--db", "/nonexistent/never.db", "--prot", "8080"])
        #expect(unknown.termination != .exited(0))
        #expect(unknown.termination == .exited(64), "a usage error")
        #expect(unknown.errorText.contains("Unknown option '--prot'"), "\(unknown.errorText)")
        let missing = try runFetchq(["serve", "--port", "--db", "/nonexistent/never.db"])
        #expect(missing.termination == .exited(64), "a usage error")
        #expect(missing.errorText.contains("Missing value for '--port <n>'"), "\(missing.errorText)")
    }

    @Test func helpShowsEverySettingOfTheReadmeWithItsVariableAndDefault() throws {
        let run = try runFetchq(["serve", "--help"])
        #expect(run.termination == .exited(0))
        // Lines are wrapped to fit the terminal; compare with every run of blanks made one space.
        let help = run.outputText.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let rows = try readmeSettings()
        for row in rows {
            let listsFlag = help.contains(" \(row.flag) ")
            let entry = "(env: \(row.variable), default: \(row.shownDefault)"
            let showsDefault = help.contains(entry + ",") || help.contains(entry + ")")
            #expect(listsFlag, "\(row.flag) is missing from --help")
            #expect(showsDefault, "\(row.flag): --help does not show \(entry)")
        }
        let listed = run.outputText.split(separator: "\n").filter { $0.hasPrefix("  --") }
            .map { String($0.dropFirst(2).prefix { $0 != " " }) }
        #expect(Set(listed).subtracting(["--version"]) == Set(rows.map(\.flag)), "the README lists what --help lists")
    }

    @Test func theVariableIsHonouredAndTheFlagWinsOverIt() throws {
        let environment = Environment([
            "FETCHQ_PORT": "9001", "FETCHQ_ALLOW_CIDR": "10.1.0.0/16, fd00::/8", "FETCHQ_LOG_LEVEL": "debug",
            "FETCHQ_ALLOW_PRIVATE_TARGETS": "yes",
        ])
        func configuration(_ arguments: [String], _ environment: Environment) throws -> ServiceConfiguration {
            try ServiceConfiguration(SettingValues(Settings.parse(arguments), environment: environment))
        }
        let defaults = try configuration([], Environment([:]))
        #expect(defaults.http.port == 8080)
        #expect(defaults.logLevel == .info)
        #expect(defaults.engine.destinations.allowed.isEmpty)
        #expect(!defaults.engine.destinations.allowPrivateTargets)
        let fromVariables = try configuration([], environment)
        #expect(fromVariables.http.port == 9001)
        #expect(fromVariables.logLevel == .debug)
        #expect(
            fromVariables.engine.destinations.allowed.map(\.description) == ["10.1.0.0/16", "fd00:0:0:0:0:0:0:0/8"])
        #expect(fromVariables.engine.destinations.allowPrivateTargets)
        let fromFlags = try configuration(
            ["--port", "9002", "--allow-cidr", "192.168.7.0/24", "--log-level=error"], environment)
        #expect(fromFlags.http.port == 9002)
        #expect(fromFlags.logLevel == .error)
        #expect(fromFlags.engine.destinations.allowed.map(\.description) == ["192.168.7.0/24"])
        let repeated = try configuration(["--allow-cidr", "192.168.7.0/24", "--allow-cidr=10.2.0.0/16"], environment)
        #expect(repeated.engine.destinations.allowed.map(\.description) == ["192.168.7.0/24", "10.2.0.0/16"])
        #expect(
            try configuration(["--allow-private-targets"], Environment([:])).engine.destinations.allowPrivateTargets)
    }

    @Test func migrateTakesTheDatabaseFromTheVariableAndTheFlagWins() async throws {
        try await withTemporaryDirectory { directory in
            let fromVariable = directory.appending(path: "variable.db").path
            let fromFlag = directory.appending(path: "flag.db").path
            let first = try runFetchq(["migrate"], environment: ["FETCHQ_DB": fromVariable])
            #expect(first.outputText.contains("\(fromVariable): applied 1"))
            let second = try runFetchq(["migrate", "--db", fromFlag], environment: ["FETCHQ_DB": fromVariable])
            #expect(second.outputText.contains("\(fromFlag): applied 1"))
            #expect(FileManager.default.fileExists(atPath: fromVariable))
            #expect(FileManager.default.fileExists(atPath: fromFlag))
        }
    }
}
