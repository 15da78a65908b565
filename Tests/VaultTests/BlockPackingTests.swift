import Foundation
import Synchronization
import Testing
import VaultCrypto
import VolumePool
@testable import Vault

/// Small blocks share pack objects (BlockPacker, docs/FORMAT-blocks.md "Packed blocks"): what
/// goes into a pack, when a pack reaches the pool, reads before and after, and when a pack is
/// deleted — over a real 4+2 pool.
@Suite struct BlockPackingTests {
    static let chunk = BlockStore.chunkSize

    private func packedFixture(cacheBudget: Int = 0) throws -> BlockStoreFixture {
        try BlockStoreFixture(cacheBudget: cacheBudget, packsSmallBlocks: true)
    }

    @Test func smallBlocksShareOnePackThatReachesThePoolOnSync() throws {
        let fixture = try packedFixture()
        let sizes = [1, 5000, Self.chunk, Self.chunk + 1, BlockPacker.largestPackedBlock]
        let contents = sizes.enumerated().map { blockTestBytes($1, seed: UInt64($0)) }
        let blocks = try contents.map { try fixture.write($0) }
        #expect(Set(blocks.compactMap { $0.pack?.object }).count == 1, "one pack holds every small block")
        #expect(blocks.map { $0.pack?.firstChunk } == [0, 1, 2, 3, 5])
        #expect(try fixture.pool.list().isEmpty, "the open pack is still in memory")
        for (block, bytes) in zip(blocks, contents) {
            #expect(try fixture.readAll(block) == bytes, "read from the unwritten pack, \(bytes.count) bytes")
        }
        try fixture.store.syncIfNeeded()
        #expect(try fixture.pool.list() == [blocks[0].pack!.object])
        #expect(fixture.store.unwrittenPacks == 0)
        for (block, bytes) in zip(blocks, contents) {
            #expect(try fixture.readAll(block) == bytes, "read from the pool, \(bytes.count) bytes")
            #expect(try fixture.read(block, 1 ..< bytes.count) == Array(bytes[1...]))
        }
        #expect(fixture.store.counters.blocksPacked == sizes.count)
    }

    @Test func largeDurableAndEmptyBlocksAreNotPacked() throws {
        let fixture = try packedFixture()
        let large = try fixture.write(blockTestBytes(BlockPacker.largestPackedBlock + 1, seed: 1))
        let durable = try fixture.write(blockTestBytes(100, seed: 2), durable: true)
        let empty = try fixture.write([])
        #expect(large.pack == nil && durable.pack == nil && empty.pack == nil)
        #expect(Set(try fixture.pool.list()) == [large.id, durable.id, empty.id])
        #expect(fixture.store.counters.blocksPacked == 0)
    }

    /// A FUSE writer's blocks skip the volumes' page cache (the kernel caches the plaintext),
    /// an S3 writer's stay in it; a pack skips it only when all its members' writers do.
    @Test func aPackSkipsThePageCacheOnlyIfEveryMemberDoes() throws {
        let written = Mutex<[ShardCaching]>([])
        let packer = BlockPacker(sealedChunkSize: Self.chunk + AEADAlgorithm.aes256GCM.overhead,
                                 put: { _, _, caching in written.withLock { $0.append(caching) } }, delete: { _ in })
        func append(_ caching: ShardCaching) throws {
            _ = try packer.append(chunkCount: 1, caching: caching) { $0.initializeMemory(as: UInt8.self, repeating: 1) }
        }
        try append(.bypass)
        try append(.bypass)
        try packer.flush()
        try append(.bypass)
        try append(.keep)
        try append(.bypass)
        try packer.flush()
        #expect(written.withLock { $0 } == [.bypass, .keep])
    }

    @Test func aFullPackIsWrittenByTheWriterThatFindsItFull() throws {
        let fixture = try packedFixture()
        let perPack = BlockPacker.packCapacity / (Self.chunk + AEADAlgorithm.aes256GCM.overhead)
        let blocks = try (0 ... perPack).map { try fixture.write(blockTestBytes(700, seed: UInt64($0))) }
        let packs = blocks.map { $0.pack!.object }
        #expect(Set(packs.prefix(perPack)).count == 1 && packs[perPack] != packs[0], "the \(perPack + 1)th block starts a new pack")
        #expect(try fixture.pool.list() == [packs[0]], "the full pack is in the pool before any sync")
        #expect(try fixture.pool.head(packs[0]).length == perPack * (Self.chunk + AEADAlgorithm.aes256GCM.overhead))
        try fixture.store.syncIfNeeded()
        #expect(Set(try fixture.pool.list()) == Set(packs))
        for (index, block) in blocks.enumerated() {
            #expect(try fixture.readAll(block) == blockTestBytes(700, seed: UInt64(index)))
        }
    }

    @Test func aPackIsDeletedWithItsLastMemberOnly() throws {
        let fixture = try packedFixture()
        let blocks = try (0 ..< 3).map { try fixture.write(blockTestBytes(3000, seed: UInt64($0))) }
        try fixture.store.syncIfNeeded()
        let pack = blocks[0].pack!.object
        fixture.store.delete(blocks[0])
        fixture.store.delete(blocks[2])
        #expect(try fixture.pool.list() == [pack], "one member is still alive")
        #expect(try fixture.readAll(blocks[1]) == blockTestBytes(3000, seed: 1))
        fixture.store.delete(blocks[1])
        #expect(try fixture.pool.list().isEmpty)
    }

    @Test func aPackWhoseMembersAllDiedBeforeItWasWrittenLeavesNothing() throws {
        let fixture = try packedFixture()
        let blocks = try (0 ..< 3).map { try fixture.write(blockTestBytes(3000, seed: UInt64($0))) }
        for block in blocks { fixture.store.delete(block) }
        try fixture.store.syncIfNeeded()
        #expect(try fixture.pool.list().isEmpty)
        #expect(fixture.store.unwrittenPacks == 0)
    }

    @Test func membersAdoptedAtReopenKeepTheirPackUntilTheLastIsRemoved() throws {
        let fixture = try VaultFixture()
        var inodes: [InodeNumber] = []
        for index in 0 ..< 3 {
            let (inode, _) = try fixture.vault.mknod(Namespace.rootInode, "small\(index)", kind: .regular,
                                                     permissions: 0o644, uid: 0, gid: 0)
            try fixture.write(inode, at: 0, blockTestBytes(10_000 + index, seed: UInt64(index)))
            inodes.append(inode)
        }
        try fixture.vault.sync()
        let packs = try inodes.map { inode in
            try fixture.vault.read { (namespace) throws(VaultError) in try namespace.content(inode).blocks.first?.pack?.object }
        }
        let pack = try #require(packs[0])
        #expect(packs.allSatisfy { $0 == pack }, "the three files share one pack")
        try fixture.reopen()
        for (index, inode) in inodes.enumerated() {
            #expect(try fixture.contents(inode) == blockTestBytes(10_000 + index, seed: UInt64(index)))
        }
        try fixture.vault.unlink(Namespace.rootInode, "small0")
        try fixture.vault.unlink(Namespace.rootInode, "small1")
        try fixture.vault.sync()
        try fixture.vault.sync()  // deletions run after the commit that made them safe
        #expect(try fixture.vault.pool.list().contains(pack), "the pack stays while small2 lives")
        #expect(try fixture.contents(inodes[2]) == blockTestBytes(10_002, seed: 2))
        try fixture.vault.unlink(Namespace.rootInode, "small2")
        try fixture.vault.sync()
        try fixture.vault.sync()
        #expect(try !fixture.vault.pool.list().contains(pack), "the pack went with its last member")
        #expect(try fixture.vault.fsck(repair: false).isClean)
    }

    @Test func membersSwappedInsideAPackAreRejected() throws {
        let fixture = try packedFixture()
        let first = try fixture.write(blockTestBytes(100, seed: 1))
        let second = try fixture.write(blockTestBytes(100, seed: 2))
        try fixture.store.syncIfNeeded()
        let pack = first.pack!.object
        let sealed = Self.chunk + AEADAlgorithm.aes256GCM.overhead
        try fixture.rewriteObject(pack) { bytes in
            let firstChunk = Array(bytes[0 ..< sealed])
            bytes.replaceSubrange(0 ..< sealed, with: bytes[sealed ..< 2 * sealed])
            bytes.replaceSubrange(sealed ..< 2 * sealed, with: firstChunk)
        }
        expectBlockError(.io) { _ = try fixture.readAll(first) }
        expectBlockError(.io) { _ = try fixture.readAll(second) }
    }

    @Test func aPackCutShortIsAnIOErrorForTheMembersItLost() throws {
        let fixture = try packedFixture()
        let first = try fixture.write(blockTestBytes(100, seed: 1))
        let second = try fixture.write(blockTestBytes(100, seed: 2))
        try fixture.store.syncIfNeeded()
        try fixture.rewriteObject(first.pack!.object) { bytes in bytes.removeLast(10) }
        #expect(try fixture.readAll(first) == blockTestBytes(100, seed: 1))
        expectBlockError(.io) { _ = try fixture.readAll(second) }
    }

    /// With too few volumes the pack cannot be written: sync fails and says so, the blocks stay
    /// readable from memory, and the next sync once the volumes are back writes the pack.
    @Test func aPackThatCannotBeWrittenIsKeptAndWrittenByALaterSync() throws {
        let fixture = try packedFixture()
        let bytes = blockTestBytes(20_000, seed: 5)
        let block = try fixture.write(bytes)
        let hidden = fixture.volumePaths.prefix(3).map { ($0, $0 + ".away") }
        for (path, away) in hidden { #expect(rename(path, away) == 0) }
        expectBlockError(.io) { try fixture.store.syncIfNeeded() }
        #expect(try fixture.readAll(block) == bytes)
        #expect(fixture.store.unwrittenPacks == 1)
        for (path, away) in hidden { #expect(rename(away, path) == 0) }
        try fixture.store.syncIfNeeded()
        #expect(fixture.store.unwrittenPacks == 0)
        #expect(try fixture.pool.list() == [block.pack!.object])
        #expect(try fixture.readAll(block) == bytes)
    }
}
