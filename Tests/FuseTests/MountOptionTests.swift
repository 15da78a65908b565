import Foundation
import Glibc
import Testing

/// The `-o` options added for issue 4: uid=/gid= overrides, cache_size=, and s3= (refused).
@Suite(.serialized)
struct MountOptionTests {
    /// uid=/gid= change what every stat reports; chown still changes the stored owner,
    /// which a mount without the override shows. (cache_size= and noexec ride along.)
    @Test func uidAndGidOverrideWhatStatReports() throws {
        let vault = try MountedVault(options: ["uid=4321,gid=8765,cache_size=8,noexec"])
        defer { vault.stop() }
        let mountinfo = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        let line = mountinfo.split(separator: "\n").first { $0.contains(" \(vault.mountpoint) ") }
        #expect(line?.contains("noexec") == true, "\(line ?? "not in mountinfo")")
        try FileManager.default.createDirectory(atPath: vault.path("dir"), withIntermediateDirectories: false)
        try "owned".write(toFile: vault.path("dir/file"), atomically: false, encoding: .utf8)
        for path in [vault.mountpoint, vault.path("dir"), vault.path("dir/file")] {
            var status = stat()
            #expect(lstat(path, &status) == 0)
            #expect(status.st_uid == 4321 && status.st_gid == 8765, "\(path): \(status.st_uid):\(status.st_gid)")
        }
        #expect(chown(vault.path("dir/file"), 11, 12) == 0)
        var status = stat()
        #expect(stat(vault.path("dir/file"), &status) == 0)
        #expect(status.st_uid == 4321 && status.st_gid == 8765)

        #expect(vault.unmountBySignal() == 0, "daemon log: \(vault.log())")
        try vault.mount()
        #expect(stat(vault.path("dir/file"), &status) == 0)
        #expect(status.st_uid == 11 && status.st_gid == 12)
        #expect(stat(vault.path("dir"), &status) == 0)
        #expect(status.st_uid == getuid() && status.st_gid == getgid())
        #expect(try String(contentsOfFile: vault.path("dir/file"), encoding: .utf8) == "owned")
    }

    /// Refused before anything is mounted or asked: s3= (the S3 listener is issue 5) and
    /// malformed values, in the foreground and the background alike.
    @Test func s3AndMalformedValuesAreRefused() throws {
        let vault = try MountedVault(mount: false)
        defer { vault.stop() }
        defer { BackgroundDaemon.stop(pid: nil, mountpoint: vault.mountpoint) }
        let refusals = [
            ("s3=127.0.0.1:9000", "option s3 is not supported yet (the S3 listener, issue 5)"),
            ("uid=alice", "uid must be a numeric id"),
            ("gid=-1", "gid must be a numeric id"),
            ("cache_size=lots", "cache_size must be a size in MiB"),
            ("cache_size=1000000G", "more than half of this machine's memory"),
        ]
        for (option, message) in refusals {
            for foreground in [true, false] {
                let result = try MountedVault.run(["mount"] + (foreground ? ["--foreground"] : [])
                    + ["--password-file", vault.passwordFile, "-o", option] + vault.volumes + [vault.mountpoint])
                #expect(result.status == 64 && result.output.contains(message), "\(option): \(result.output)")
                #expect(!MountedVault.isMounted(vault.mountpoint))
            }
        }
    }
}
