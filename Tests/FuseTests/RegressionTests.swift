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
}
