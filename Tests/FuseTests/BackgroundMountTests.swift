import Foundation
import Glibc
import Testing

/// `shardvault mount` without --foreground: it returns once the mount is live and leaves a
/// daemon behind, or fails — before detaching — with the error on its own stderr.
@Suite(.serialized)
struct BackgroundMountTests {
    @Test func backgroundMountComesUpAndUnmountEndsTheDaemon() throws {
        let vault = try MountedVault(mount: false)
        defer { vault.stop() }
        var pid: pid_t?
        defer { BackgroundDaemon.stop(pid: pid, mountpoint: vault.mountpoint) }

        let mounted = try vault.mountInBackground()
        pid = mounted.pid
        #expect(mounted.status == 0, "\(mounted.output)")
        #expect(MountedVault.isMounted(vault.mountpoint), "the command returned before the mount was live")
        guard let daemon = mounted.pid else {
            Issue.record("no daemon pid printed: \(mounted.output)")
            return
        }
        #expect(BackgroundDaemon.isAlive(daemon))
        #expect(BackgroundDaemon.pids(serving: vault.mountpoint) == [daemon])
        #expect((try? String(contentsOfFile: "/proc/\(daemon)/comm", encoding: .utf8)) == "shardvault\n")
        // Detached: its own session, nothing of the caller's terminal or pipes, no busy cwd.
        #expect(getsid(daemon) == daemon)
        for descriptor: Int32 in 0 ... 2 {
            #expect(BackgroundDaemon.descriptorTarget(daemon, descriptor) == "/dev/null")
        }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(daemon)/cwd") == "/")

        try "through the daemon".write(toFile: vault.path("file"), atomically: false, encoding: .utf8)
        #expect(try String(contentsOfFile: vault.path("file"), encoding: .utf8) == "through the daemon")

        let unmounted = try MountedVault.run(["unmount", vault.mountpoint])
        #expect(unmounted.status == 0, "\(unmounted.output)")
        // Not waited for here: `unmount` returns only once the daemon is gone.
        #expect(!BackgroundDaemon.isAlive(daemon), "the daemon still runs after unmount returned")
        #expect(!MountedVault.isMounted(vault.mountpoint))

        // What it wrote was committed: a foreground mount sees it.
        try vault.mount()
        #expect(try String(contentsOfFile: vault.path("file"), encoding: .utf8) == "through the daemon")
    }

    /// Every refusal comes from the command itself, with a non-zero status, and leaves
    /// nothing mounted and no daemon behind.
    @Test func errorsArePrintedBeforeDetaching() throws {
        let vault = try MountedVault(mount: false)
        defer { vault.stop() }
        let other = vault.root + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        var pid: pid_t?
        defer { BackgroundDaemon.stop(pid: pid, mountpoint: vault.mountpoint) }
        defer { BackgroundDaemon.stop(pid: nil, mountpoint: other) }

        let wrongPassword = vault.root + "/wrong"
        try "not it".write(toFile: wrongPassword, atomically: true, encoding: .utf8)
        let refused = try MountedVault.run(["mount", "--password-file", wrongPassword] + vault.volumes + [vault.mountpoint])
        #expect(refused.status == 2, "\(refused.output)")
        #expect(refused.output == "shardvault: wrong password\n")
        #expect(!MountedVault.isMounted(vault.mountpoint))
        #expect(BackgroundDaemon.pids(serving: vault.mountpoint).isEmpty)

        let missing = try vault.mountInBackground(at: vault.root + "/missing")
        #expect(missing.status == 64 && missing.output.contains("does not exist"), "\(missing.output)")

        let badOption = try vault.mountInBackground(options: ["bogus"])
        #expect(badOption.status == 64 && badOption.output.contains("unknown mount option bogus"), "\(badOption.output)")

        let badLog = try vault.mountInBackground(extra: ["--log-file", vault.root + "/no/such/dir/log"])
        #expect(badLog.status == 2 && badLog.output.contains("cannot open the log file"), "\(badLog.output)")
        #expect(!MountedVault.isMounted(vault.mountpoint))

        // The volumes are locked by the first daemon: the second mount fails in its daemon,
        // and the command reports that daemon's message and status.
        let first = try vault.mountInBackground()
        pid = first.pid
        #expect(first.status == 0, "\(first.output)")
        let second = try vault.mountInBackground(at: other)
        #expect(second.status == 2 && second.output.contains("in use by another shardvault process"), "\(second.output)")
        #expect(!MountedVault.isMounted(other))
        #expect(BackgroundDaemon.pids(serving: other).isEmpty)
    }

    /// After the mount is live the daemon's messages go to --log-file (report_init prints
    /// when the kernel's INIT arrives, which is after the command has returned).
    @Test func logFileReceivesTheDaemonsMessages() throws {
        let vault = try MountedVault(mount: false)
        defer { vault.stop() }
        var pid: pid_t?
        defer { BackgroundDaemon.stop(pid: pid, mountpoint: vault.mountpoint) }
        let log = vault.root + "/daemon-messages.log"
        let mounted = try vault.mountInBackground(options: ["report_init"], extra: ["--log-file", log])
        pid = mounted.pid
        #expect(mounted.status == 0, "\(mounted.output)")
        #expect(!mounted.output.contains("FUSE protocol"))
        var status = stat()
        #expect(stat(vault.mountpoint, &status) == 0)
        let deadline = Date().addingTimeInterval(10)
        while !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("FUSE protocol") && Date() < deadline {
            usleep(20_000)
        }
        #expect(try String(contentsOfFile: log, encoding: .utf8).contains("FUSE protocol"))
    }

    /// A daemon killed with SIGKILL leaves a stale mount (ENOTCONN); the next mount detaches
    /// it, says so, and mounts.
    @Test func staleMountOfAKilledDaemonIsReplacedByTheNextMount() throws {
        let vault = try MountedVault(mount: false)
        defer { vault.stop() }
        var pid: pid_t?
        defer { BackgroundDaemon.stop(pid: pid, mountpoint: vault.mountpoint) }
        let first = try vault.mountInBackground()
        pid = first.pid
        #expect(first.status == 0, "\(first.output)")
        guard let killed = first.pid else { return }
        let data = FileTests.pattern(100_000, seed: 3)
        let descriptor = open(vault.path("durable"), O_CREAT | O_WRONLY, 0o644)
        #expect(data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == data.count)
        #expect(fsync(descriptor) == 0)
        close(descriptor)

        kill(killed, SIGKILL)
        #expect(BackgroundDaemon.waitForExit(killed))
        var status = stat()
        // ECONNABORTED while the kernel is still tearing the connection down (ECANCELED for a
        // request it had queued on the dead daemon's io_uring), then ENOTCONN.
        #expect([ENOTCONN, ECONNABORTED, ECANCELED].contains(errnoOf { stat(vault.mountpoint, &status) }))

        let second = try vault.mountInBackground()
        pid = second.pid
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("\(vault.mountpoint) was a stale mount left by a shardvault daemon that died; detached it"),
                "\(second.output)")
        #expect(stat(vault.mountpoint, &status) == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: vault.path("durable"))) == data)
    }
}
