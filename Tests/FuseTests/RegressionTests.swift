import Foundation
import Glibc
import Testing

/// Minimal reproductions of bugs the bigger exercisers (RandomIOTests, the real programs)
/// found, each kept as its own test so a regression names itself.
@Suite(.serialized)
struct RegressionTests {
    /// Found by the fsx exerciser (RandomIOTests). An inline file (≤ 2 KiB, stored
    /// in its metadata record) that is extended by a write past its first 32 KiB chunk lost
    /// its inline bytes: the write made block 0 dirty without loading chunk 0, and sealing
    /// then dropped the inline content because block 0 was "in memory". The bytes read back
    /// as zeros once the kernel's page cache no longer held them.
    @Test func inlineFileKeepsItsBytesWhenAWritePastTheFirstChunkExtendsIt() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        for offset in [4096, 32767, 32768, 40000, 1 << 20, 5 << 20] {
            try extendInlineFile(vault.path("inline-\(offset)"), byWritingAt: offset)
        }
    }

    private func extendInlineFile(_ path: String, byWritingAt offset: Int) throws {
        let head = [UInt8](repeating: 0xAA, count: 1000)
        try Data(head).write(to: URL(fileURLWithPath: path))   // closed: stored inline

        let descriptor = open(path, O_RDWR)
        try #require(descriptor >= 0)
        let tail = [UInt8](repeating: 0xBB, count: 10)
        #expect(pwrite(descriptor, tail, tail.count, off_t(offset)) == tail.count)
        #expect(close(descriptor) == 0)

        // Read through the daemon, not the kernel's page cache.
        let reader = open(path, O_RDONLY)
        try #require(reader >= 0)
        defer { close(reader) }
        #expect(posix_fadvise(reader, 0, 0, POSIX_FADV_DONTNEED) == 0)
        var bytes = [UInt8](repeating: 0x55, count: offset + tail.count)
        #expect(pread(reader, &bytes, bytes.count, 0) == bytes.count)
        let lost = bytes.prefix(head.count).filter { $0 != 0xAA }.count
        #expect(lost == 0, "write of \(tail.count) bytes at \(offset) to a 1000-byte inline file: \(lost) of its first 1000 bytes no longer read back")
        #expect(bytes[head.count ..< offset].allSatisfy { $0 == 0 }, "the hole reads as zeros")
        #expect(Array(bytes[offset...]) == tail)
    }

    /// Found by the bench's workloads suite. With the writeback cache, syncfs makes the kernel
    /// write back every dirty inode's times (a setattr of mtime and ctime), including a file
    /// unlinked since; the daemon answered ENOENT for the freed inode and syncfs failed.
    @Test func syncfsSucceedsAfterAWrittenFileIsRemoved() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        // What `echo x > g; rm g; sync -f .` does; sync -f is syncfs(2) on the mount.
        let result = try Shell.run("echo x > short-lived; rm short-lived; sync -f .", in: vault.path(""))
        #expect(result.status == 0, "syncfs after unlink failed: \(result.tail)")
    }

    /// Found by the kernel-source untar test (tar sets each file's mtime before closing it).
    /// A file written and then given an mtime (futimens or utimensat) before it is closed
    /// lost that mtime: close flushed the buffered data and recorded the content with the
    /// current time. Seen after a remount (the kernel keeps its own mtime while mounted with
    /// the writeback cache).
    @Test func mtimeSetBeforeCloseSurvivesTheFlush() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        let wanted = timespec(tv_sec: 1_000_000_000, tv_nsec: 123_456_789)
        var cases: [String] = []
        for size in [100, 5000, 100_000] {
            for byDescriptor in [true, false] {
                let name = "file-\(size)-\(byDescriptor ? "futimens" : "utimensat")"
                cases.append(name)
                let descriptor = open(vault.path(name), O_CREAT | O_WRONLY | O_TRUNC, 0o644)
                try #require(descriptor >= 0)
                let bytes = [UInt8](repeating: 0x61, count: size)
                #expect(write(descriptor, bytes, size) == size)
                let times = [wanted, wanted]
                if byDescriptor {
                    #expect(futimens(descriptor, times) == 0)
                } else {
                    #expect(utimensat(AT_FDCWD, vault.path(name), times, 0) == 0)
                }
                #expect(close(descriptor) == 0)
            }
        }
        try #require(vault.unmountBySignal() == 0, "daemon log: \(vault.log())")
        try vault.mount()
        for name in cases {
            var status = stat()
            #expect(stat(vault.path(name), &status) == 0)
            #expect(status.st_mtim.tv_sec == wanted.tv_sec && status.st_mtim.tv_nsec == wanted.tv_nsec,
                    "\(name): mtime \(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec) after remount, set to 1000000000.123456789 before close")
        }
    }

    /// Found by the live-fault test. With 2 of 6 volumes gone the vault mounts read-only (as
    /// it should: writes need 5). If the journal holds records past the last checkpoint — a
    /// crash, or volumes lost while mounted — unmounting that read-only mount tries to write
    /// a checkpoint, fails the quorum and exits 2 ("writing checkpoint N: write of object …
    /// reached 4 volumes, 5 needed"), although nothing was changed and nothing is lost.
    @Test func degradedReadOnlyMountUnmountsCleanlyAfterACrash() throws {
        let vault = try MountedVault()
        defer { vault.stop() }
        let descriptor = open(vault.path("kept"), O_CREAT | O_WRONLY, 0o644)
        try #require(descriptor >= 0)
        #expect(write(descriptor, "kept\n", 5) == 5)
        #expect(fsync(descriptor) == 0)
        close(descriptor)
        vault.killDaemon()   // the journal now ends past the checkpoint
        vault.unmountBySignal()
        for index in [1, 4] { try FileManager.default.removeItem(atPath: vault.volumes[index]) }

        try vault.mount()
        #expect(try String(contentsOfFile: vault.path("kept"), encoding: .utf8) == "kept\n")
        #expect(errnoOf { mkdir(vault.path("refused"), 0o755) } == EROFS, "2 of 6 volumes missing: read-only")
        let status = vault.unmountBySignal()
        #expect(status == 0, "unmounting a read-only degraded mount: exit \(String(describing: status)); log: \(vault.log())")
    }
}
