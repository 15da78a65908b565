import Foundation
import Glibc
import Testing

/// The two-door daemon: `shardvault mount --foreground -o s3=127.0.0.1:0,…` serves the test
/// vault through a FUSE mount at `mountpoint` and an S3 endpoint at once (DESIGN.md I5).
extension S3Daemon {
    /// Where `startMounted` mounts the vault (scripts get it as S3_MOUNTPOINT).
    var mountpoint: String { root + "/mnt" }

    /// Starts the mount daemon with S3 on a free loopback port plus `options`, and waits
    /// (30 s at most) until it listens and the mount answers.
    func startMounted(options: [String] = []) throws {
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let mountOptions = (["s3=127.0.0.1:0"] + options).joined(separator: ",")
        try launch(["mount", "--foreground", "--password-file", passwordFile, "-o", mountOptions] + volumes + [mountpoint],
                   environment: try daemonEnvironment(useStoredKeys: false))
        let deadline = Date().addingTimeInterval(30)
        while !Self.isServed(mountpoint) {
            guard isRunning else { throw HarnessError("the mount daemon exited early: \(log)") }
            guard Date() < deadline else { throw HarnessError("the mount did not come up within 30 s: \(log)") }
            usleep(20_000)
        }
    }

    /// Detaches a mount left at `mountpoint` (the daemon was killed, or a test failed midway).
    func detachMount() {
        if Self.isMounted(mountpoint) { _ = try? Self.runTool("/usr/bin/fusermount3", ["-u", "-z", mountpoint]) }
    }

    /// Mounted and answered by a live daemon (the root is inode 1), not a stale mount.
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

    /// Runs a tool with a deadline (SIGKILL after it); output is stdout and stderr together.
    static func runTool(_ tool: String, _ arguments: [String], timeout: TimeInterval = 60,
                        environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = NSTemporaryDirectory() + "tool-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: output) }
        let handle = try Foundation.FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = Foundation.FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func acceptsConnections(port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// The port of `endpoint` ("http://127.0.0.1:PORT").
    var port: Int { Int(endpoint.split(separator: ":").last ?? "") ?? 0 }
}

extension Tools {
    /// /dev/fuse and fusermount3, which mounts need.
    static let fuseAvailable = FileManager.default.fileExists(atPath: "/dev/fuse")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/fusermount3")
}
