import Foundation
import Glibc
import Testing

/// mount-helper/mount.shardvault, called the way mount(8) calls it, and — as root — through
/// mount(8) itself (`mount -t fuse.shardvault`, `mount --fstab FILE`).
@Suite(.serialized)
struct MountHelperTests {
    /// The helper installed into a temporary directory next to a `shardvault` symlink to the
    /// built binary (the "next to it" way of finding the binary).
    struct InstalledHelper {
        let path: String

        init(in directory: String) throws {
            let installDirectory = directory + "/sbin"
            try FileManager.default.createDirectory(atPath: installDirectory, withIntermediateDirectories: true)
            path = installDirectory + "/mount.shardvault"
            try FileManager.default.copyItem(atPath: Self.source, toPath: path)
            try FileManager.default.createSymbolicLink(atPath: installDirectory + "/shardvault", withDestinationPath: Binary.path)
        }

        /// The script in the repository.
        static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("mount-helper/mount.shardvault").path

        func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
            let assignments = environment.map { "\($0.key)=\($0.value)" }
            return try MountedVault.runTool("/usr/bin/env", assignments + [path] + arguments)
        }
    }

    @Test func helperTranslatesMountOptionsAndMountsInTheBackground() throws {
        let vault = try MountedVault(mount: false)
        defer { vault.stop() }
        var pid: pid_t?
        defer { BackgroundDaemon.stop(pid: pid, mountpoint: vault.mountpoint) }
        let helper = try InstalledHelper(in: vault.root)
        let source = vault.volumes.joined(separator: ":")

        // -f (fake) shows the command without running it: mount(8)'s own options are dropped.
        let fake = try helper.run([source, vault.mountpoint, "-f", "-o",
                                   "rw,noauto,_netdev,nofail,defaults,user,relatime,x-systemd.automount,passfile=\(vault.passwordFile)",
                                   "-o", "allow_other,uid=77", "-t", "fuse.shardvault"])
        #expect(fake.status == 0, "\(fake.output)")
        let expected = "mount --password-file \(vault.passwordFile) -o allow_other,uid=77 -- \(vault.volumes.joined(separator: " ")) \(vault.mountpoint)"
        #expect(fake.output.contains(expected), "\(fake.output)")
        #expect(!MountedVault.isMounted(vault.mountpoint))

        let mounted = try helper.run([source, vault.mountpoint, "-o", "rw,nofail,passfile=\(vault.passwordFile),gid=88,uid=77"])
        pid = BackgroundDaemon.pid(in: mounted.output)
        #expect(mounted.status == 0, "\(mounted.output)")
        #expect(MountedVault.isMounted(vault.mountpoint))
        var status = stat()
        #expect(stat(vault.mountpoint, &status) == 0)
        #expect(status.st_uid == 77 && status.st_gid == 88)
        let unmounted = try MountedVault.runTool("/bin/umount", [vault.mountpoint])
        #expect(unmounted.status == 0, "\(unmounted.output)")
        if let pid { #expect(BackgroundDaemon.waitForExit(pid), "the daemon still runs after umount") }
    }

    /// Failures map onto mount(8)'s statuses: 1 for usage, 32 for a mount that failed.
    @Test func helperFailuresUseMountStatuses() throws {
        let vault = try MountedVault(mount: false)
        defer { vault.stop() }
        defer { BackgroundDaemon.stop(pid: nil, mountpoint: vault.mountpoint) }
        let helper = try InstalledHelper(in: vault.root)
        let source = vault.volumes.joined(separator: ":")
        let wrong = vault.root + "/wrong"
        try "not it".write(toFile: wrong, atomically: true, encoding: .utf8)

        let wrongPassword = try helper.run([source, vault.mountpoint, "-o", "passfile=\(wrong)"])
        #expect(wrongPassword.status == 32 && wrongPassword.output.contains("wrong password"), "\(wrongPassword.output)")
        let badOption = try helper.run([source, vault.mountpoint, "-o", "passfile=\(vault.passwordFile),bogus"])
        #expect(badOption.status == 1 && badOption.output.contains("unknown mount option bogus"), "\(badOption.output)")
        let noMountpoint = try helper.run([source])
        #expect(noMountpoint.status == 1 && noMountpoint.output.contains("usage"), "\(noMountpoint.output)")
        let emptyVolume = try helper.run([vault.volumes[0] + "::" + vault.volumes[1], vault.mountpoint])
        #expect(emptyVolume.status == 1 && emptyVolume.output.contains("empty volume"), "\(emptyVolume.output)")
        let namespace = try helper.run([source, vault.mountpoint, "-N", "1"])
        #expect(namespace.status == 1, "\(namespace.output)")
        let noBinary = try helper.run([source, vault.mountpoint, "-o", "passfile=\(vault.passwordFile)"],
                                      environment: ["SHARDVAULT_BINARY": vault.root + "/no-such-binary"])
        #expect(noBinary.status == 32 && noBinary.output.contains("cannot find the shardvault binary"), "\(noBinary.output)")
        #expect(!MountedVault.isMounted(vault.mountpoint))
    }

    /// The real mount(8): it runs /sbin/mount.fuse.shardvault for type fuse.shardvault. The
    /// test links that name to the installed helper for its duration (root only; skipped
    /// when the name is taken by a real installation).
    @Test func mountCommandAndFstabRunTheHelper() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/bin/mount") else { return }
        let vault = try MountedVault(mount: false)
        defer { vault.stop() }
        defer { BackgroundDaemon.stop(pid: nil, mountpoint: vault.mountpoint) }
        let helper = try InstalledHelper(in: vault.root)
        guard let link = try SystemHelperLink(pointingAt: helper.path) else { return }
        defer { link.remove() }
        let source = vault.volumes.joined(separator: ":")

        let mounted = try MountedVault.runTool("/bin/mount", ["-t", "fuse.shardvault", source, vault.mountpoint,
                                                              "-o", "passfile=\(vault.passwordFile),uid=55"])
        #expect(mounted.status == 0, "\(mounted.output)")
        var status = stat()
        #expect(stat(vault.mountpoint, &status) == 0 && status.st_uid == 55)
        try "via mount(8)".write(toFile: vault.path("file"), atomically: false, encoding: .utf8)
        #expect(try MountedVault.runTool("/bin/umount", [vault.mountpoint]).status == 0)
        if let pid = BackgroundDaemon.pid(in: mounted.output) { #expect(BackgroundDaemon.waitForExit(pid)) }

        // An fstab line, from a file of our own instead of /etc/fstab.
        let fstab = vault.root + "/fstab"
        try "\(source) \(vault.mountpoint) fuse.shardvault defaults,noauto,nofail,_netdev,ro,passfile=\(vault.passwordFile) 0 0\n"
            .write(toFile: fstab, atomically: true, encoding: .utf8)
        let fromFstab = try MountedVault.runTool("/bin/mount", ["--fstab", fstab, vault.mountpoint])
        #expect(fromFstab.status == 0, "\(fromFstab.output)")
        #expect(try String(contentsOfFile: vault.path("file"), encoding: .utf8) == "via mount(8)")
        #expect(errnoOf { open(vault.path("new"), O_CREAT | O_WRONLY, 0o644) } == EROFS)
        #expect(try MountedVault.runTool("/bin/umount", [vault.mountpoint]).status == 0)
        if let pid = BackgroundDaemon.pid(in: fromFstab.output) { #expect(BackgroundDaemon.waitForExit(pid)) }
    }

    /// /usr/sbin/mount.fuse.shardvault → the test's helper, created only when that name is
    /// free (or a dangling link left by an earlier, killed test run) and removed only if it
    /// is still ours.
    struct SystemHelperLink {
        static let path = "/usr/sbin/mount.fuse.shardvault"
        let target: String

        init?(pointingAt target: String) throws {
            self.target = target
            if let existing = try? FileManager.default.destinationOfSymbolicLink(atPath: Self.path),
               !FileManager.default.fileExists(atPath: existing) {
                try FileManager.default.removeItem(atPath: Self.path)
            }
            guard symlink(target, Self.path) == 0 else { return nil }
        }

        func remove() {
            if (try? FileManager.default.destinationOfSymbolicLink(atPath: Self.path)) == target {
                unlink(Self.path)
            }
        }
    }
}
