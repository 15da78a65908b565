import Foundation
import Glibc
import Testing

/// A fresh 4+2 vault in a temporary directory, mounted by the built `shardvault mount
/// --foreground` running as a child process. `stop()` (always from a `defer`) unmounts and
/// ends the child, and never waits without a deadline.
final class MountedVault {
    let root: String
    let volumes: [String]
    let mountpoint: String
    let passwordFile: String
    private(set) var daemon: Process?
    private var daemonLog: String { root + "/daemon.log" }

    /// Creates the vault (test KDF) and mounts it (in the foreground, unless `mount` is false).
    /// `inMemory` puts the volumes on tmpfs (/dev/shm, when there is one) for tests of the
    /// data path that sync thousands of times: a disk's flush latency would dominate them
    /// and proves nothing there.
    init(options: [String] = [], mount: Bool = true, inMemory: Bool = false) throws {
        let base = inMemory && access("/dev/shm", W_OK) == 0 ? "/dev/shm/" : NSTemporaryDirectory()
        var template = Array((base + "shardvault-fuse-XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw HarnessError("mkdtemp failed")
        }
        let root = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.root = root
        volumes = (0 ..< 6).map { "\(root)/volume\($0)" }
        mountpoint = root + "/mnt"
        passwordFile = root + "/password"
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        try "correct horse".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let initialised = try Self.run(["init", "--kdf", "test", "--password-file", passwordFile] + volumes)
        guard initialised.status == 0 else { throw HarnessError("init failed: \(initialised.output)") }
        if mount { try self.mount(options: options) }
    }

    /// Starts the daemon (with `environment` added to ours) and waits, with a deadline,
    /// until the mount is live.
    func mount(options: [String] = [], environment: [String: String] = [:]) throws {
        let process = Process()
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.arguments = ["mount", "--foreground", "--password-file", passwordFile]
            + options.flatMap { ["-o", $0] } + volumes + [mountpoint]
        _ = FileManager.default.createFile(atPath: daemonLog, contents: nil)
        let logHandle = try Foundation.FileHandle(forWritingTo: URL(fileURLWithPath: daemonLog))
        logHandle.seekToEndOfFile()
        defer { try? logHandle.close() }
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = Foundation.FileHandle.nullDevice
        try process.run()
        daemon = process
        let deadline = Date().addingTimeInterval(20)
        while !Self.isServed(mountpoint) {
            guard process.isRunning else { throw HarnessError("the daemon exited early: \(log())") }
            guard Date() < deadline else { throw HarnessError("the mount did not come up within 20 s: \(log())") }
            usleep(20_000)
        }
    }

    /// SIGKILL for the daemon, as a crash: returns once it is gone, its mount left stale.
    func killDaemon() {
        guard let process = daemon else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then wait for the daemon to exit; returns its exit status (nil when it had
    /// to be killed). The mount point is detached in any case.
    @discardableResult
    func unmountBySignal(timeout: TimeInterval = 20) -> Int32? {
        guard let process = daemon else { return nil }
        daemon = nil
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        var status: Int32?
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { usleep(10_000) }
        } else if process.terminationReason == .exit {
            status = process.terminationStatus
        }
        if Self.isMounted(mountpoint) { _ = try? Self.runTool("/usr/bin/fusermount3", ["-u", "-z", mountpoint]) }
        return status
    }

    /// Last-resort cleanup for `defer`: ends the daemon, detaches the mount, deletes the files.
    func stop() {
        unmountBySignal()
        try? FileManager.default.removeItem(atPath: root)
    }

    func log() -> String { (try? String(contentsOfFile: daemonLog, encoding: .utf8)) ?? "" }

    func path(_ relative: String) -> String { mountpoint + "/" + relative }

    /// Mounted and answered by a live daemon: a stale mount (a killed daemon's, until the
    /// next mount detaches it) is listed in mountinfo too, but stat fails with ENOTCONN.
    static func isServed(_ path: String) -> Bool {
        var status = stat()
        return isMounted(path) && stat(path, &status) == 0 && status.st_ino == 1
    }

    static func isMounted(_ path: String) -> Bool {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return false }
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4] == path
        }
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runTool(Binary.path, arguments)
    }

    static func runTool(_ tool: String, _ arguments: [String], timeout: TimeInterval = 30) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = Foundation.FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, output)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The built `shardvault`: `$SHARDVAULT_BINARY`, else next to the test bundle.
enum Binary {
    static let path: String = {
        if let explicit = ProcessInfo.processInfo.environment["SHARDVAULT_BINARY"] { return explicit }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0 ..< 4 {
            let candidate = directory.appendingPathComponent("shardvault").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return "shardvault-not-built"
    }()
}

/// POSIX calls with errno, for expectations like `#expect(errnoOf { mkdir(...) } == EEXIST)`.
func errnoOf(_ call: () -> Int32) -> Int32 {
    errno = 0
    return call() == -1 ? errno : 0
}
