import Foundation
import Glibc
import Testing

/// Mounting, unmounting, remounting, and ending the daemon with a signal.
@Suite(.serialized)
struct MountLifecycleTests {
    @Test func emptyVaultMountsAsADirectory() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        var status = stat()
        #expect(stat(vault.mountpoint, &status) == 0)
        #expect(status.st_mode & S_IFMT == S_IFDIR)
        #expect(status.st_ino == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: vault.mountpoint) == [])
        #expect(errnoOf { stat(vault.path("missing"), &status) } == ENOENT)
    }

    @Test func sigtermUnmountsAndExitsZero() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        try "kept".write(toFile: vault.path("file"), atomically: false, encoding: .utf8)
        let status = vault.unmountBySignal()
        #expect(status == 0, "daemon log: \(vault.log())")
        #expect(!MountedVault.isMounted(vault.mountpoint))
    }

    @Test func contentSurvivesUnmountAndRemount() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        try FileManager.default.createDirectory(atPath: vault.path("dir/sub"), withIntermediateDirectories: true)
        let big = Data((0 ..< 3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) })
        try big.write(to: URL(fileURLWithPath: vault.path("dir/sub/big")))
        try "small".write(toFile: vault.path("dir/small"), atomically: false, encoding: .utf8)
        #expect(symlink("dir/small", vault.path("link")) == 0)

        // Through the CLI's unmount this time; the daemon must notice and exit 0.
        let unmounted = try MountedVault.run(["unmount", vault.mountpoint])
        #expect(unmounted.status == 0, "\(unmounted.output)")
        #expect(vault.unmountBySignal() == 0, "daemon log: \(vault.log())")
        try vault.mount()
        #expect(try Data(contentsOf: URL(fileURLWithPath: vault.path("dir/sub/big"))) == big)
        #expect(try String(contentsOfFile: vault.path("dir/small"), encoding: .utf8) == "small")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: vault.path("link")) == "dir/small")
    }

    @Test func badOptionsAndWrongPasswordAreRefused() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        let bad = try MountedVault.run(["mount", "--foreground", "--password-file", vault.passwordFile, "-o", "bogus"]
            + vault.volumes + [vault.root + "/elsewhere"])
        #expect(bad.status == 64, "\(bad.output)")
        #expect(bad.output.contains("bogus"))

        // A second mount of a mounted vault is refused by the volume locks.
        let twice = try MountedVault.run(["mount", "--foreground", "--password-file", vault.passwordFile]
            + vault.volumes + [vault.root])
        #expect(twice.status == 2 && twice.output.contains("in use"), "\(twice.output)")
        #expect(vault.unmountBySignal() == 0)

        let wrongPassword = vault.root + "/wrong"
        try "not it".write(toFile: wrongPassword, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: vault.root + "/other", withIntermediateDirectories: true)
        let refused = try MountedVault.run(["mount", "--foreground", "--password-file", wrongPassword]
            + vault.volumes + [vault.root + "/other"])
        #expect(refused.status == 2 && refused.output.contains("wrong password"), "\(refused.output)")
        #expect(!MountedVault.isMounted(vault.root + "/other"))

        let notMounted = try MountedVault.run(["unmount", vault.root + "/other"])
        #expect(notMounted.status == 2 && notMounted.output.contains("not mounted"), "\(notMounted.output)")
    }

    /// Data still in the kernel's writeback cache when SIGTERM arrives must reach the vault:
    /// the daemon unmounts while its workers still run, then closes the vault.
    @Test func unsyncedWritesSurviveSigterm() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        let data = FileTests.pattern(5 << 20, seed: 9)
        try data.write(to: URL(fileURLWithPath: vault.path("unsynced")))
        #expect(vault.unmountBySignal() == 0, "daemon log: \(vault.log())")
        try vault.mount()
        #expect(try Data(contentsOf: URL(fileURLWithPath: vault.path("unsynced"))) == data)
    }

    /// A busy mount is detached lazily on SIGTERM; the daemon serves the open file until it
    /// is closed, then exits 0.
    @Test func sigtermWhileBusyDetachesAndExitsWhenIdle() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        try "busy".write(toFile: vault.path("held"), atomically: false, encoding: .utf8)
        let descriptor = open(vault.path("held"), O_RDONLY)
        #expect(descriptor >= 0)
        guard let daemon = vault.daemon else { return }
        kill(daemon.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while MountedVault.isMounted(vault.mountpoint) && Date() < deadline { usleep(20_000) }
        #expect(!MountedVault.isMounted(vault.mountpoint))
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(pread(descriptor, &buffer, 8, 0) == 4)
        #expect(daemon.isRunning)
        close(descriptor)
        #expect(vault.unmountBySignal() == 0, "daemon log: \(vault.log())")
    }

    @Test func readOnlyMountRefusesChanges() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        try "before".write(toFile: vault.path("f"), atomically: false, encoding: .utf8)
        #expect(vault.unmountBySignal() == 0)
        try vault.mount(options: ["ro"])
        #expect(try String(contentsOfFile: vault.path("f"), encoding: .utf8) == "before")
        #expect(errnoOf { mkdir(vault.path("d"), 0o755) } == EROFS)
        #expect(errnoOf { open(vault.path("f"), O_WRONLY) } == EROFS)
    }

    /// fsync'd data survives SIGKILL of the daemon; the next mount detaches the stale mount
    /// it leaves and says so.
    @Test func fsyncedDataSurvivesSigkillAndTheStaleMountIsReplaced() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        let data = FileTests.pattern(300_000, seed: 11)
        let descriptor = open(vault.path("durable"), O_CREAT | O_WRONLY, 0o644)
        #expect(data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == data.count)
        #expect(fsync(descriptor) == 0)
        close(descriptor)
        vault.killDaemon()
        var status = stat()
        // ECONNABORTED while the kernel is still tearing the connection down (ECANCELED for a
        // request it had queued on the dead daemon's io_uring), then ENOTCONN.
        #expect([ENOTCONN, ECONNABORTED, ECANCELED].contains(errnoOf { stat(vault.mountpoint, &status) }))
        try vault.mount()
        #expect(vault.log().contains("was a stale mount left by a shardvault daemon that died"), "daemon log: \(vault.log())")
        #expect(try Data(contentsOf: URL(fileURLWithPath: vault.path("durable"))) == data)
    }

    /// Small files' releases run after their reply (DeferredReleases); an fsync waits for
    /// those queued before it, so files closed just before another file's fsync are as
    /// durable as they were when the release ran inline (their write-backs are waited for).
    @Test func filesClosedBeforeAnotherFilesFsyncSurviveSigkill() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        let sizes = [1, 700, 10_000, 70_000, 300_000]
        let files = (0 ..< 20).map { index in ("closed\(index)", FileTests.pattern(sizes[index % sizes.count], seed: UInt64(40 + index))) }
        for (name, data) in files {
            let descriptor = open(vault.path(name), O_CREAT | O_WRONLY, 0o644)
            #expect(data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == data.count)
            #expect(close(descriptor) == 0)
        }
        let synced = open(vault.path("synced"), O_CREAT | O_WRONLY, 0o644)
        #expect(write(synced, "x", 1) == 1)
        #expect(fsync(synced) == 0)
        vault.killDaemon()
        close(synced)
        try vault.mount()
        for (name, data) in files {
            #expect(try Data(contentsOf: URL(fileURLWithPath: vault.path(name))) == data, "\(name), \(data.count) bytes")
        }
    }

    /// syncfs(2) never reaches the daemon (the kernel forwards FUSE_SYNCFS only to virtiofs
    /// and fuseblk servers); it pushes the kernel's dirty pages to it, and the daemon writes
    /// back a file that has gone quiet by itself (Vault+DurabilityHorizon.swift). Without
    /// that, the data of a file still open waited for its close: the file came back empty.
    @Test func dataSyncfsPushedFromAFileStillOpenSurvivesSigkill() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        let data = FileTests.pattern(300_000, seed: 77)
        let descriptor = open(vault.path("open.log"), O_CREAT | O_WRONLY, 0o644)
        #expect(data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == data.count)
        let synced = try Shell.run("sync -f \(Shell.quote(vault.path("open.log")))")
        #expect(synced.succeeded, "\(synced.tail)")
        // The horizon (0.5 s without writes, swept every 0.25 s) and a journal commit (0.2 s),
        // with room for a loaded machine.
        sleep(3)
        vault.killDaemon()
        close(descriptor)
        try vault.mount()
        #expect(try Data(contentsOf: URL(fileURLWithPath: vault.path("open.log"))) == data)
    }

    /// allow_other lets another user in; default_permissions makes the kernel enforce the
    /// mode bits for them.
    @Test func defaultPermissionsAreEnforcedForAnotherUser() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return }
        let vault = try MountedVault()
        defer { vault.stop() }
        #expect(vault.unmountBySignal() == 0)
        try vault.mount(options: ["allow_other,default_permissions"])
        // The test's temporary directory is private to root; let nobody reach the mount point.
        #expect(chmod(vault.root, 0o755) == 0)
        try "secret".write(toFile: vault.path("private"), atomically: false, encoding: .utf8)
        #expect(chmod(vault.path("private"), 0o600) == 0)
        try "public".write(toFile: vault.path("public"), atomically: false, encoding: .utf8)
        #expect(chmod(vault.path("public"), 0o644) == 0)
        func asNobody(_ arguments: [String]) throws -> (status: Int32, output: String) {
            try MountedVault.runTool("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups"] + arguments)
        }
        let denied = try asNobody(["/bin/cat", vault.path("private")])
        #expect(denied.status != 0 && denied.output.contains("Permission denied"), "\(denied.output)")
        let allowed = try asNobody(["/bin/cat", vault.path("public")])
        #expect(allowed.status == 0 && allowed.output == "public", "\(allowed.output)")
        let created = try asNobody(["/bin/touch", vault.path("new")])
        #expect(created.status != 0, "nobody may not write into a 0755 root-owned directory")
    }
}
