import Foundation
import Spawn
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The posix_spawn wrapper, on real child processes.
@Suite struct ChildProcessTests {
    @Test func argumentsAndEnvironmentArriveAsGiven() throws {
        let run = try ChildProcess.run(
            .init(
                executable: "/bin/sh",
                arguments: ["-c", #"printf '%s|' "$@"; printf '%s' "$GREETING""#, "sh", "one", "two words", ""],
                environment: ["GREETING": "héllo = world", "PATH": "/usr/bin:/bin"], standardOutput: .pipe))
        #expect(run.termination == .exited(0))
        #expect(run.outputText == "one|two words||héllo = world")
    }

    @Test func aNameWithoutASlashIsLookedUpInThePath() throws {
        let run = try ChildProcess.run(.init(executable: "echo", arguments: ["found"], standardOutput: .pipe))
        #expect(run.outputText == "found\n")
    }

    @Test func pipesCarryDataBothWays() throws {
        let child = try ChildProcess.spawn(.init(executable: "/bin/cat", standardInput: .pipe, standardOutput: .pipe))
        let input = try #require(child.standardInput)
        let output = try #require(child.standardOutput)
        // More than a pipe holds (64 KiB), so writing and reading must overlap.
        let sent = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let writer = Thread {
            try? input.write(sent)
            input.close()
        }
        writer.start()
        let received = try output.readToEnd()
        #expect(received == sent)
        #expect(child.waitUntilExit() == .exited(0), "cat ends at the end of its input")
    }

    @Test func standardErrorCanJoinStandardOutputOrBeDiscarded() throws {
        let script = "echo out; echo err >&2"
        let joined = try ChildProcess.run(
            .init(
                executable: "/bin/sh", arguments: ["-c", script], standardOutput: .pipe, standardError: .standardOutput)
        )
        #expect(joined.outputText == "out\nerr\n")
        let apart = try ChildProcess.run(
            .init(executable: "/bin/sh", arguments: ["-c", script], standardOutput: .pipe, standardError: .pipe))
        #expect(apart.outputText == "out\n")
        #expect(apart.errorText == "err\n")
        let discarded = try ChildProcess.run(
            .init(executable: "/bin/sh", arguments: ["-c", script], standardOutput: .null, standardError: .pipe))
        #expect(discarded.outputText == "")
        #expect(discarded.errorText == "err\n")
    }

    @Test func aChildSeesNoDescriptorButItsThree() throws {
        // A descriptor this process opens without close-on-exec: posix_spawn alone would pass it on.
        let leaky = open("/dev/null", O_RDONLY)
        #expect(leaky > 2)
        defer { close(leaky) }
        let child = try ChildProcess.spawn(.init(executable: "/bin/cat", standardInput: .pipe, standardOutput: .pipe))
        // Once cat echoes a line it is past its start-up (which may open locale files for a moment).
        try child.standardInput?.write(Array("ping\n".utf8))
        #expect(try child.standardOutput?.read() == Array("ping\n".utf8))
        // Listed from here, so the listing itself opens nothing in the child.
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(child.pid)/fd")
        #expect(descriptors.sorted() == ["0", "1", "2"])
        child.standardInput?.close()
        #expect(child.waitUntilExit() == .exited(0))
    }

    @Test func exitCodesAndSignalsAreReportedAsTheyHappened() async throws {
        let seven = try ChildProcess.run(.init(executable: "/bin/sh", arguments: ["-c", "exit 7"]))
        #expect(seven.termination == .exited(7))
        let terminated = try ChildProcess.run(.init(executable: "/bin/sh", arguments: ["-c", "kill -TERM $$"]))
        #expect(terminated.termination == .signaled(SIGTERM))
        let sleeper = try ChildProcess.spawn(.init(executable: "/bin/sleep", arguments: ["60"]))
        #expect(sleeper.isRunning)
        #expect(sleeper.termination == nil)
        sleeper.signal(SIGKILL)
        #expect(await sleeper.exited() == .signaled(SIGKILL))
        #expect(sleeper.termination == .signaled(SIGKILL))
        // Signalling a reaped child does nothing (its pid may be another process's by now).
        sleeper.signal(SIGKILL)
    }

    @Test func aMissingProgramIsAnErrorNamingTheCall() throws {
        #expect(throws: SystemCallError.self) {
            _ = try ChildProcess.spawn(.init(executable: "/nonexistent/program"))
        }
        do {
            _ = try ChildProcess.spawn(.init(executable: "/nonexistent/program"))
        } catch {
            #expect(error.errno == ENOENT)
            #expect(error.description.contains("/nonexistent/program"))
        }
    }

    @Test func signalsAreResetToTheirDefaultsInTheChild() throws {
        // fetchq's processes ignore SIGPIPE; a child must not inherit that.
        signal(SIGPIPE, SIG_IGN)
        let status = try ChildProcess.run(
            .init(executable: "/bin/cat", arguments: ["/proc/self/status"], standardOutput: .pipe)
        ).outputText
        let fields = Dictionary(
            status.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: ":", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces)) : nil
            }, uniquingKeysWith: { first, _ in first })
        // Bit N-1 stands for signal N. Signals 32 and 33 belong to glibc's threads implementation,
        // which no program can set or reset: they are left out.
        let glibcOwn: UInt64 = 1 << 31 | 1 << 32
        let ignored = UInt64(fields["SigIgn"] ?? "", radix: 16).map { $0 & ~glibcOwn }
        let blocked = UInt64(fields["SigBlk"] ?? "", radix: 16).map { $0 & ~glibcOwn }
        #expect(ignored == 0, "SIGPIPE is bit \(SIGPIPE - 1)")
        #expect(blocked == 0)
    }

    @Test func aNewProcessGroupIsMadeOnlyWhenAsked() throws {
        func group(newProcessGroup: Bool) throws -> (pid: Int32, group: Int32) {
            let child = try ChildProcess.spawn(
                .init(
                    executable: "/bin/cat", arguments: ["/proc/self/stat"], standardOutput: .pipe,
                    newProcessGroup: newProcessGroup))
            let stat = String(decoding: try child.standardOutput?.readToEnd() ?? [], as: UTF8.self)
            _ = child.waitUntilExit()
            // Fields after the command's name, which is in parentheses: state, ppid, pgrp, …
            let fields = stat[(stat.lastIndex(of: ")") ?? stat.startIndex)...].split(separator: " ")
            return (child.pid, Int32(fields[3]) ?? -1)
        }
        let own = try group(newProcessGroup: true)
        #expect(own.group == own.pid)
        let shared = try group(newProcessGroup: false)
        #expect(shared.group == getpgrp())
    }

    @Test func manyLaunchesLeaveNoZombie() async throws {
        var pids: [Int32] = []
        for _ in 0..<500 {
            let child = try ChildProcess.spawn(.init(executable: "/bin/true"))
            pids.append(child.pid)
            #expect(await child.exited() == .exited(0))
        }
        // Every one was reaped: none is still a child of this process (other tests' children may
        // come and go meanwhile, which is why the pids are checked and not the count).
        let ours = Set(pids)
        let leftovers = try childrenOfThisProcess().filter { ours.contains($0.pid) }
        #expect(leftovers.isEmpty, "not reaped: \(leftovers)")
    }

    @Test func aChildAskedToDieWithItsParentExitsWhenTheParentIsAlreadyGone() throws {
        // `env` replaces itself with fetchq, whose parent is this process, not pid 1: the check that
        // follows arming the death signal sees the mismatch and exits.
        let run = try ChildProcess.run(
            .init(
                executable: "/usr/bin/env",
                arguments: ["\(ParentDeath.environmentKey)=1", try fetchqBinary(), "--help"], standardOutput: .null,
                standardError: .pipe, dieWithParent: false))
        #expect(run.termination == .exited(1))
        #expect(run.errorText.contains("has ended"))
    }
}

/// Processes whose parent is this one, with their state letter (`Z` for a zombie).
func childrenOfThisProcess() throws -> [(pid: Int32, state: Character)] {
    let me = getpid()
    return try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap { entry in
        guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 1, Int32(fields[1]) == me, let state = fields[0].first else { return nil }
        return (pid, state)
    }
}

/// The fetchq binary built beside these tests.
func fetchqBinary() throws -> String {
    let running = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    return URL(fileURLWithPath: running).deletingLastPathComponent().appending(path: "fetchq").path
}
