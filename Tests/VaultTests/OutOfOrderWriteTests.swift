import Testing
@testable import Vault

/// The kernel's writeback sends a file's pages out of order from several threads. A block is
/// sealed once all of it has been written, not when its end arrives first: sealing early
/// stored a partial block that the rest then read back and sealed again.
@Suite struct OutOfOrderWriteTests {
    let root = Namespace.rootInode
    static let block = OpenFile.blockSize

    private func pattern(_ count: Int, _ seed: Int) -> [UInt8] {
        (0 ..< count).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ seed &+ $0 >> 12) }
    }

    private func write(_ vault: Vault, _ handle: FileHandle, _ bytes: [UInt8], _ range: Range<Int>) throws {
        try bytes[range].withUnsafeBytes { try vault.write(handle, at: UInt64(range.lowerBound), $0) }
    }

    @Test func blocksWhoseEndArrivesFirstAreSealedOnce() throws {
        let fixture = try VaultFixture(k: 2, m: 1)
        let vault = fixture.vault!
        let (inode, _) = try vault.mknod(root, "streamed", kind: .regular, permissions: 0o644, uid: 0, gid: 0)
        let bytes = pattern(3 * Self.block, 5)
        let handle = try vault.open(inode)
        let half = Self.block / 2
        // Second halves first, as two writeback threads might send them.
        for block in 0 ..< 3 { try write(vault, handle, bytes, block * Self.block + half ..< (block + 1) * Self.block) }
        #expect(vault.blocks.counters.blocksWritten == 0, "no block is complete yet")
        for block in 0 ..< 3 { try write(vault, handle, bytes, block * Self.block ..< block * Self.block + half) }
        try vault.fsync(handle)
        let counters = vault.blocks.counters
        #expect(counters.blocksWritten == 3, "each block sealed once")
        #expect(counters.objectFetches == 0, "nothing read back")
        try vault.release(handle)
        try fixture.reopen()
        #expect(try fixture.contents(inode) == bytes)
    }

    /// A random writer touches blocks without ever reaching their ends: the bound holds all
    /// the same (it used to be enforced only by a write reaching a block's end, so every
    /// touched block stayed buffered until close).
    @Test func scatteredSmallWritesStayWithinTheBound() throws {
        let fixture = try VaultFixture(k: 2, m: 1)
        let vault = fixture.vault!
        let (inode, _) = try vault.mknod(root, "database", kind: .regular, permissions: 0o644, uid: 0, gid: 0)
        let blocks = OpenFile.maximumIncompleteDirtyBlocks + 8
        var expected = [UInt8](repeating: 0, count: blocks * Self.block)
        let handle = try vault.open(inode)
        let file = try #require(vault.openFiles.file(inode))
        var mostBuffered = 0
        for block in (0 ..< blocks).reversed() {
            let start = block * Self.block + 40_000 + block * 977
            let bytes = pattern(4096, block)
            expected.replaceSubrange(start ..< start + bytes.count, with: bytes)
            try bytes.withUnsafeBytes { try vault.write(handle, at: UInt64(start), $0) }
            file.lock.lock()
            mostBuffered = max(mostBuffered, file.dirtyBlocks.count)
            file.lock.unlock()
        }
        #expect(mostBuffered <= OpenFile.maximumIncompleteDirtyBlocks, "blocks beyond the bound were handed to a seal")
        try vault.release(handle)
        try fixture.reopen()
        let size = (blocks - 1) * Self.block + 40_000 + (blocks - 1) * 977 + 4096
        #expect(try fixture.contents(inode) == Array(expected[..<size]))
    }

    /// An S3 body arrives in reads of any length, so a write often ends inside a block's last
    /// chunk. Loading that chunk did not make the block complete: the rest of the chunk was
    /// still to come, and sealing then left it a second, partial dirty block held until the
    /// file was closed and sealed again after reading the first back.
    @Test func writesEndingInsideTheLastChunkDoNotSealTheBlockEarly() throws {
        let fixture = try VaultFixture(k: 2, m: 1)
        let vault = fixture.vault!
        let (inode, _) = try vault.mknod(root, "uploaded", kind: .regular, permissions: 0o644, uid: 0, gid: 0)
        let blocks = 4
        let bytes = pattern(blocks * Self.block + 12345, 9)
        var cuts = [0]
        for block in 1 ... blocks { cuts += [block * Self.block - 75_000, block * Self.block - 5000] }
        cuts.append(bytes.count)
        let handle = try vault.open(inode)
        let file = try #require(vault.openFiles.file(inode))
        var mostBuffered = 0
        for (start, end) in zip(cuts, cuts.dropFirst()) {
            try write(vault, handle, bytes, start ..< end)
            file.lock.lock()
            mostBuffered = max(mostBuffered, file.dirtyBlocks.count)
            file.lock.unlock()
        }
        try vault.fsync(handle)
        let counters = vault.blocks.counters
        #expect(counters.blocksWritten == blocks + 1, "each block sealed once")
        #expect(counters.objectFetches == 0, "nothing read back")
        #expect(mostBuffered <= 2, "only the block being written and the next stay buffered")
        try vault.release(handle)
        try fixture.reopen()
        #expect(try fixture.contents(inode) == bytes)
    }

    /// Memory stays bounded: past `maximumIncompleteDirtyBlocks`, the lowest-numbered dirty
    /// block is sealed, the rest read from the stored block.
    @Test func blocksWrittenOnlyAtTheirEndsStayWithinTheBound() throws {
        let fixture = try VaultFixture(k: 2, m: 1)
        let vault = fixture.vault!
        let (inode, _) = try vault.mknod(root, "sparse", kind: .regular, permissions: 0o644, uid: 0, gid: 0)
        let blocks = OpenFile.maximumIncompleteDirtyBlocks + 3
        let tail = 4096
        let handle = try vault.open(inode)
        var expected = [UInt8](repeating: 0, count: blocks * Self.block)
        for block in 0 ..< blocks {
            let range = (block + 1) * Self.block - tail ..< (block + 1) * Self.block
            let bytes = pattern(tail, block)
            expected.replaceSubrange(range, with: bytes)
            try bytes.withUnsafeBytes { try vault.write(handle, at: UInt64(range.lowerBound), $0) }
        }
        let file = try #require(vault.openFiles.file(inode))
        file.lock.lock()
        let buffered = file.dirtyBlocks.count
        file.lock.unlock()
        #expect(buffered <= OpenFile.maximumIncompleteDirtyBlocks + 1, "blocks beyond the bound were handed to a seal")
        try vault.release(handle)
        try fixture.reopen()
        #expect(try fixture.contents(inode) == expected)
    }
}
