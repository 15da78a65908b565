import Foundation
import Glibc
import Testing

/// I5, one vault, two doors: `shardvault mount -o s3=…` serves a FUSE mount and an S3
/// endpoint from one daemon, and a change through either is visible through the other as soon
/// as the call that made it returns (the S3 door invalidates the kernel's caches).
@Suite(.serialized, .enabled(if: Tools.boto3Available && Tools.fuseAvailable,
                             "needs python3 with boto3 and requests (make setup), /dev/fuse and fusermount3"))
struct TwoDoorsTests {
    private func runCoherenceScript(mountOptions: [String]) throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        try daemon.startMounted(options: mountOptions)
        let result = try daemon.script("two_doors.py")
        #expect(result.status == 0, "\(result.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.isRunning, "the daemon died: \(daemon.log)")
        #expect(daemon.stop() == 0, "SIGTERM should end the daemon cleanly: \(daemon.log)")
        #expect(!S3Daemon.isMounted(daemon.mountpoint))
    }

    /// The default 1 s attr/entry timeouts; every check runs within 0.5 s of the change.
    @Test func changesAreVisibleThroughTheOtherDoorAtOnce() throws {
        try runCoherenceScript(mountOptions: [])
    }

    /// Kernel caches kept for 30 s, those of missing names too: only invalidation can make the
    /// checks pass (the script looks a name up before S3 creates it).
    @Test func thirtySecondKernelCachesAreInvalidatedByS3Changes() throws {
        try runCoherenceScript(mountOptions: ["attr_timeout=30", "entry_timeout=30", "negative_timeout=30"])
    }

    /// SIGTERM unmounts, stops the S3 listener and closes the vault once (exit 0): what was
    /// written through either door just before is there after a restart, through both.
    @Test func sigtermStopsBothDoorsAndKeepsWhatBothWrote() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        try daemon.startMounted()
        let written = try daemon.script("two_doors_persist.py", ["write"])
        #expect(written.status == 0, "\(written.output)\n--- daemon log\n\(daemon.log)")
        let port = daemon.port
        #expect(daemon.stop() == 0, "\(daemon.log)")
        #expect(!S3Daemon.isMounted(daemon.mountpoint))
        #expect(!S3Daemon.acceptsConnections(port: port), "the S3 listener outlived the daemon")

        try daemon.startMounted()
        let checked = try daemon.script("two_doors_persist.py", ["check"])
        #expect(checked.status == 0, "\(checked.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.stop() == 0, "\(daemon.log)")
    }

    /// `-o ro,s3=`: the S3 door serves reads and refuses every change, as the mount does.
    @Test func readOnlyMountServesS3ReadOnly() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        try daemon.startMounted()
        let written = try daemon.script("two_doors_persist.py", ["write"])
        #expect(written.status == 0, "\(written.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.stop() == 0, "\(daemon.log)")

        try daemon.startMounted(options: ["ro"])
        let result = try daemon.script("two_doors_readonly.py")
        #expect(result.status == 0, "\(result.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.stop() == 0, "\(daemon.log)")
    }

    /// Without --foreground: the command prints the endpoint, returns once both doors are up,
    /// and `shardvault unmount` ends the daemon and its listener.
    @Test func backgroundMountServesS3UntilUnmounted() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        var pid: pid_t?
        defer { Self.end(pid) }
        try FileManager.default.createDirectory(atPath: daemon.mountpoint, withIntermediateDirectories: true)
        let mounted = try S3Daemon.runTool(Binary.path, ["mount", "--password-file", daemon.passwordFile, "-o", "s3=127.0.0.1:0"]
            + daemon.volumes + [daemon.mountpoint], environment: try daemon.daemonEnvironment(useStoredKeys: false))
        pid = Self.daemonPID(in: mounted.output)
        #expect(mounted.status == 0, "\(mounted.output)")
        let endpoint = mounted.output.split(separator: "\n").first { $0.hasPrefix("s3 endpoint: http://127.0.0.1:") }
        guard let endpoint, pid != nil else {
            Issue.record("no endpoint line or daemon pid: \(mounted.output)")
            return
        }
        daemon.endpoint = String(endpoint.dropFirst("s3 endpoint: ".count))
        #expect(S3Daemon.isServed(daemon.mountpoint), "the command returned before the mount was live")
        let result = try daemon.script("two_doors_persist.py", ["write"])
        #expect(result.status == 0, "\(result.output)")

        let unmounted = try S3Daemon.runTool(Binary.path, ["unmount", daemon.mountpoint])
        #expect(unmounted.status == 0, "\(unmounted.output)")
        let deadline = Date().addingTimeInterval(20)
        while Self.isAlive(pid!) && Date() < deadline { usleep(20_000) }
        #expect(!Self.isAlive(pid!), "the daemon still runs after unmount")
        #expect(!S3Daemon.acceptsConnections(port: daemon.port), "the S3 listener outlived the unmount")

        try daemon.startMounted()
        let checked = try daemon.script("two_doors_persist.py", ["check"])
        #expect(checked.status == 0, "\(checked.output)\n--- daemon log\n\(daemon.log)")
    }

    /// A port already taken fails the mount before anything is mounted, in the foreground
    /// and in the background, with the reason (I6).
    @Test func busyPortFailsBeforeMounting() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        let (listener, port) = try Self.listeningSocket()
        defer { close(listener) }
        try FileManager.default.createDirectory(atPath: daemon.mountpoint, withIntermediateDirectories: true)
        for foreground in [true, false] {
            var pid: pid_t?
            defer { Self.end(pid) }
            let result = try S3Daemon.runTool(Binary.path, ["mount"] + (foreground ? ["--foreground"] : [])
                + ["--password-file", daemon.passwordFile, "-o", "s3=127.0.0.1:\(port)"] + daemon.volumes + [daemon.mountpoint],
                timeout: 30, environment: try daemon.daemonEnvironment(useStoredKeys: false))
            pid = Self.daemonPID(in: result.output)
            #expect(result.status == 2, "\(result.output)")
            #expect(result.output.contains("cannot serve S3 on 127.0.0.1:\(port)"), "\(result.output)")
            #expect(!S3Daemon.isMounted(daemon.mountpoint))
        }
    }

    // MARK: Helpers

    /// The pid in "mounted on … (daemon pid N)".
    static func daemonPID(in output: String) -> pid_t? {
        guard let range = output.range(of: "(daemon pid ") else { return nil }
        return pid_t(output[range.upperBound...].prefix { $0.isNumber })
    }

    /// A background daemon is not our child: alive unless gone or a zombie.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let endOfName = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: endOfName)...].first { $0 != " " }
        return state != "Z" && state != "X"
    }

    /// Cleanup for `defer`: SIGTERM, then SIGKILL, a background daemon still running.
    static func end(_ pid: pid_t?) {
        guard let pid, isAlive(pid) else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while isAlive(pid) && Date() < deadline { usleep(20_000) }
        if isAlive(pid) { kill(pid, SIGKILL) }
    }

    /// A socket listening on a free loopback port, to make that port busy.
    static func listeningSocket() throws -> (Int32, Int) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 1) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard listener >= 0, bound else { throw HarnessError("cannot listen on a loopback port: \(String(cString: strerror(errno)))") }
        return (listener, Int(UInt16(bigEndian: address.sin_port)))
    }
}
