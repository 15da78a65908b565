import Foundation
import Glibc
import Testing

/// Runs real programs (tar, git, rsync, python3, md5sum) for the FUSE tests.
///
/// Output goes to a file, not a pipe: programs like `md5sum -c` print far more than a pipe
/// buffer holds, and a child blocked on a full pipe would only end at the deadline.
enum Shell {
    struct Result {
        var status: Int32
        var output: String
        var timedOut: Bool
        var succeeded: Bool { status == 0 && !timedOut }
        /// The last lines of the output, for assertion messages.
        var tail: String { output.split(separator: "\n", omittingEmptySubsequences: false).suffix(30).joined(separator: "\n") }
    }

    /// `/bin/bash -c script` with `set -euo pipefail`, in `directory`, with extra environment
    /// variables; killed (with its process group) at the deadline.
    static func run(_ script: String, in directory: String? = nil, environment: [String: String] = [:],
                    timeout: TimeInterval = 120) throws -> Result {
        let process = try start(script, in: directory, environment: environment)
        return process.wait(timeout: timeout)
    }

    /// Starts the script and returns at once; `wait` collects it.
    static func start(_ script: String, in directory: String? = nil, environment: [String: String] = [:]) throws -> Running {
        let outputPath = NSTemporaryDirectory() + "shardvault-shell-\(getpid())-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try Foundation.FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "set -euo pipefail\n" + script]
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = Foundation.FileHandle.nullDevice
        try process.run()
        return Running(process: process, outputPath: outputPath)
    }

    /// A started script.
    final class Running {
        let process: Process
        let outputPath: String

        init(process: Process, outputPath: String) {
            self.process = process
            self.outputPath = outputPath
        }

        /// Waits up to `timeout`; past it, kills the script and everything it started.
        func wait(timeout: TimeInterval) -> Result {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            let timedOut = process.isRunning
            if timedOut {
                Shell.killTree(process.processIdentifier)
                process.waitUntilExit()
            }
            let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: outputPath)
            return Result(status: process.terminationStatus, output: output, timedOut: timedOut)
        }
    }

    /// SIGKILL to `pid` and its descendants (found through /proc). Each process is stopped
    /// before its children are listed, so none can fork a new one meanwhile.
    static func killTree(_ pid: pid_t) {
        kill(pid, SIGSTOP)
        for child in children(of: pid) { killTree(child) }
        kill(pid, SIGKILL)
        kill(pid, SIGCONT)
    }

    private static func children(of pid: pid_t) -> [pid_t] {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return [] }
        return tasks.flatMap { task -> [pid_t] in
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
            return text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
    }

    /// Single-quotes `text` for a bash script.
    static func quote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// True when `tool` is on the PATH; tests that need a program record an issue naming
    /// the Debian package when it is not (make setup installs them).
    static func require(_ tool: String, package: String) -> Bool {
        let found = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
        if !found { Issue.record("\(tool) is not installed: install the Debian package \(package) (make setup)") }
        return found
    }
}
