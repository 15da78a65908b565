import Foundation
import Glibc
import Testing

/// A fresh vault (1+0, test KDF) in a temporary directory, served by the built
/// `shardvault serve --s3 127.0.0.1:0` as a child process — or, with `startMounted`, by
/// `shardvault mount --foreground -o s3=127.0.0.1:0` (both doors, S3Daemon+Mount.swift).
/// `stop()` (always from a `defer`) ends the daemon with SIGTERM, falling back to SIGKILL
/// after a deadline, and detaches a mount it left.
final class S3Daemon {
    let root: String
    let volumes: [String]
    let passwordFile: String
    private(set) var process: Process?
    var endpoint = ""
    /// The key pair the daemon was started with (from the environment unless `useStoredKeys`).
    private(set) var accessKey = "SVTESTACCESSKEY00001"
    private(set) var secretKey = "test-secret-key-0123456789abcdefghijklmn"
    var log: String { (try? String(contentsOfFile: root + "/daemon.log", encoding: .utf8)) ?? "" }

    init(volumeCount: Int = 1) throws {
        var template = Array((NSTemporaryDirectory() + "shardvault-s3-XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else { throw HarnessError("mkdtemp failed") }
        let root = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.root = root
        volumes = (0 ..< volumeCount).map { "\(root)/volume\($0)" }
        passwordFile = root + "/password"
        try "s3 test password".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let made = try Self.run(["init", "--kdf", "test", "--password-file", passwordFile] + volumes)
        guard made.status == 0 else { throw HarnessError("init failed: \(made.output)") }
    }

    /// Starts the daemon; `useStoredKeys` serves with the vault's own key pair (read with
    /// `s3-keys show` first) instead of the environment's. `environment` adds variables.
    func start(useStoredKeys: Bool = false, extraArguments: [String] = [], environment extra: [String: String] = [:]) throws {
        var environment = try daemonEnvironment(useStoredKeys: useStoredKeys)
        environment.merge(extra) { _, new in new }
        try launch(["serve", "--s3", "127.0.0.1:0", "--password-file", passwordFile] + extraArguments + volumes,
                   environment: environment)
    }

    /// Our environment with the key pair the daemon is to use.
    func daemonEnvironment(useStoredKeys: Bool) throws -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if useStoredKeys {
            let shown = try Self.run(["s3-keys", "show", "--password-file", passwordFile] + volumes)
            guard shown.status == 0 else { throw HarnessError("s3-keys show failed: \(shown.output)") }
            (accessKey, secretKey) = try Self.parseKeys(shown.output)
            environment.removeValue(forKey: "SHARDVAULT_S3_ACCESS_KEY")
            environment.removeValue(forKey: "SHARDVAULT_S3_SECRET_KEY")
        } else {
            environment["SHARDVAULT_S3_ACCESS_KEY"] = accessKey
            environment["SHARDVAULT_S3_SECRET_KEY"] = secretKey
        }
        return environment
    }

    /// Runs `shardvault ARGUMENTS` as the daemon and waits (30 s at most) for the
    /// "s3 endpoint:" line on its stdout.
    func launch(_ arguments: [String], environment: [String: String]) throws {
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: Binary.path)
        daemon.arguments = arguments
        daemon.environment = environment
        let stdoutPath = root + "/daemon.stdout"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: root + "/daemon.log", contents: nil)
        let out = try Foundation.FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        let err = try Foundation.FileHandle(forWritingTo: URL(fileURLWithPath: root + "/daemon.log"))
        defer { try? out.close(); try? err.close() }
        daemon.standardOutput = out
        daemon.standardError = err
        daemon.standardInput = Foundation.FileHandle.nullDevice
        try daemon.run()
        process = daemon
        let deadline = Date().addingTimeInterval(30)
        while true {
            let text = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("s3 endpoint: ") }) {
                endpoint = String(line.dropFirst("s3 endpoint: ".count))
                return
            }
            guard daemon.isRunning else { throw HarnessError("the daemon exited early: \(log)") }
            guard Date() < deadline else { throw HarnessError("the daemon did not listen within 30 s: \(log)") }
            usleep(20_000)
        }
    }

    /// SIGTERM and wait (20 s), else SIGKILL. Returns the exit status when it exited by itself.
    /// A mount the daemon left (killed, or it failed to unmount) is detached.
    @discardableResult
    func stop() -> Int32? {
        defer { detachMount() }
        guard let process, process.isRunning else { return self.process?.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    var isRunning: Bool { process?.isRunning ?? false }

    func remove() {
        stop()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs a script of Tests/S3Tests/scripts (python3 for .py, bash for .sh) against the daemon.
    func script(_ name: String, _ arguments: [String] = [], environment extra: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let path = Self.scriptsDirectory + "/" + name
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [name.hasSuffix(".py") ? "python3" : "bash", path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["S3_ENDPOINT"] = endpoint
        environment["S3_ACCESS_KEY"] = accessKey
        environment["S3_SECRET_KEY"] = secretKey
        environment["S3_SCRATCH"] = root
        environment["S3_MOUNTPOINT"] = mountpoint
        environment["SHARDVAULT_BINARY"] = Binary.path
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        return try Self.capture(process, in: root)
    }

    static let scriptsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("scripts").path

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.arguments = arguments
        return try capture(process, in: NSTemporaryDirectory())
    }

    private static func capture(_ process: Process, in directory: String) throws -> (status: Int32, output: String) {
        let path = directory + "/capture-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let handle = try Foundation.FileHandle(forWritingTo: URL(fileURLWithPath: path))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = Foundation.FileHandle.nullDevice
        try process.run()
        // A deadline, so a hang (a mount that stopped answering, say) fails the test instead
        // of stalling the suite.
        let deadline = Date().addingTimeInterval(scriptDeadline)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        let timedOut = process.isRunning
        if timedOut {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try handle.close()
        let output = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return (process.terminationStatus, timedOut ? output + "\n(killed after \(Int(scriptDeadline)) s)" : output)
    }

    /// Seconds a script or command may run.
    static let scriptDeadline: TimeInterval = 600

    static func parseKeys(_ output: String) throws -> (String, String) {
        var access: String?
        var secret: String?
        for line in output.split(separator: "\n") {
            if line.hasPrefix("access key: ") { access = String(line.dropFirst("access key: ".count)) }
            if line.hasPrefix("secret key: ") { secret = String(line.dropFirst("secret key: ".count)) }
        }
        guard let access, let secret else { throw HarnessError("no keys in: \(output)") }
        return (access, secret)
    }
}

/// The built `shardvault`: $SHARDVAULT_BINARY, else next to the test bundle, else under the build directories.
enum Binary {
    static let path: String = {
        let fileManager = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["SHARDVAULT_BINARY"] { return explicit }
        var candidates: [URL] = []
        for start in [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])].compactMap({ $0 }) {
            var directory = start.resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0 ..< 4 {
                candidates.append(directory.appendingPathComponent("shardvault"))
                directory.deleteLastPathComponent()
            }
        }
        return candidates.first { fileManager.isExecutableFile(atPath: $0.path) && !$0.hasDirectoryPath }?.path ?? "shardvault-not-built"
    }()
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Whether the Python S3 clients the scripts need are installed (`make setup` installs them).
enum Tools {
    static let boto3Available: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import boto3, requests"]
        process.standardOutput = Foundation.FileHandle.nullDevice
        process.standardError = Foundation.FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()
}
