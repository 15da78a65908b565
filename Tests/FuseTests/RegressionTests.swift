import Foundation
import Glibc
import Testing

/// Minimal reproductions of bugs the bigger exercisers (RandomIOTests, the real programs)
/// found, each kept as its own test so a regression names itself.
@Suite(.serialized)
struct RegressionTests {
    /// Found by the fsx exerciser (seed 1, operation #706). An inline file (≤ 2 KiB, stored
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
}
