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
    static let overhead = AEADAlgorithm.aes256GCM.overhead
    static let sealedChunk = chunk + overhead

    /// Bytes a compact member of `size` plaintext bytes takes in its pack.
    static func compactLength(_ size: Int) -> Int {
        size + (size + chunk - 1) / chunk * overhead
    }

    /// A pack's object length: its members rounded up to whole sealed chunks.
    static func packLength(_ sizes: [Int]) -> Int {
        let members = sizes.map(compactLength).reduce(0, +)
        return (members + sealedChunk - 1) / sealedChunk * sealedChunk
    }

    private func packedFixture(cacheBudget: Int = 0) throws -> BlockStoreFixture {
        try BlockStoreFixture(cacheBudget: cacheBudget, packsSmallBlocks: true)
    }

    @Test func smallBlocksShareOnePackThatReachesThePoolOnSync() throws {
        let fixture = try packedFixture()
        let sizes = [1, 5000, Self.chunk, Self.chunk + 1, BlockPacker.largestPackedBlock]
        let contents = sizes.enumerated().map { blockTestBytes($1, seed: UInt64($0)) }
        let blocks = try contents.map { try fixture.write($0) }
        #expect(Set(blocks.compactMap { $0.pack?.object }).count == 1, "one pack holds every small block")
        let offsets = sizes.indices.map { index in UInt32(sizes[..<index].map(Self.compactLength).reduce(0, +)) }
        #expect(blocks.map { $0.pack?.placement } == offsets.map { .compact(byteOffset: $0) }, "members follow each other byte by byte")
        #expect(try fixture.pool.list().isEmpty, "the open pack is still in memory")
        for (block, bytes) in zip(blocks, contents) {
            #expect(try fixture.readAll(block) == bytes, "read from the unwritten pack, \(bytes.count) bytes")
        }
        try fixture.store.writePendingPacks()
        #expect(try fixture.pool.list() == [blocks[0].pack!.object])
        #expect(try fixture.pool.head(blocks[0].pack!.object).length == Self.packLength(sizes))
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
        let packer = BlockPacker(sealedChunkSize: Self.sealedChunk,
                                 put: { _, _, caching in written.withLock { $0.append(caching) } }, delete: { _ in },
                                 fillPadding: { $0.initializeMemory(as: UInt8.self, repeating: 0) })
        func append(_ caching: ShardCaching) throws {
            _ = try packer.append(byteCount: 100, caching: caching) { $0.initializeMemory(as: UInt8.self, repeating: 1) }
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
        let perPack = BlockPacker.packCapacity / Self.sealedChunk
        let blocks = try (0 ... perPack).map { try fixture.write(blockTestBytes(Self.chunk, seed: UInt64($0))) }
        let packs = blocks.map { $0.pack!.object }
        #expect(Set(packs.prefix(perPack)).count == 1 && packs[perPack] != packs[0], "the \(perPack + 1)th block starts a new pack")
        #expect(try fixture.pool.list() == [packs[0]], "the full pack is in the pool before any sync")
        #expect(try fixture.pool.head(packs[0]).length == perPack * Self.sealedChunk)
        try fixture.store.writePendingPacks()
        #expect(Set(try fixture.pool.list()) == Set(packs))
        for (index, block) in blocks.enumerated() {
            #expect(try fixture.readAll(block) == blockTestBytes(Self.chunk, seed: UInt64(index)))
        }
    }

    /// Members are sealed outside the packer's lock, into bytes reserved for them: a second
    /// writer appends while the first is still sealing, a flush waits for the member being
    /// sealed, and the pack is written only once that member is in it.
    @Test func writersSealIntoOnePackAtOnceAndAFlushWaitsForTheMemberBeingSealed() throws {
        let puts = Mutex<[[UInt8]]>([])
        let packer = BlockPacker(sealedChunkSize: Self.sealedChunk,
                                 put: { _, bytes, _ in puts.withLock { $0.append(Array(bytes)) } }, delete: { _ in },
                                 fillPadding: { $0.initializeMemory(as: UInt8.self, repeating: 0) })
        let sealing = DispatchSemaphore(value: 0)
        let mayFinish = DispatchSemaphore(value: 0)
        let slowWriter = Thread {
            _ = try? packer.append(byteCount: 100, caching: .bypass) { region in
                sealing.signal()
                mayFinish.wait()
                region.initializeMemory(as: UInt8.self, repeating: 1)
            }
        }
        slowWriter.start()
        sealing.wait()
        let second = Mutex<PackLocation?>(nil)
        let appended = DispatchSemaphore(value: 0)
        Thread {
            let location = try? packer.append(byteCount: 50, caching: .bypass) { $0.initializeMemory(as: UInt8.self, repeating: 2) }
            second.withLock { $0 = location }
            appended.signal()
        }.start()
        let appendedWhileSealing = appended.wait(timeout: .now() + 5) == .success
        #expect(appendedWhileSealing, "a second writer appends while the first is sealing")
        #expect(second.withLock { $0?.placement } == .compact(byteOffset: 100), "it follows the bytes reserved for the first")

        let flushed = DispatchSemaphore(value: 0)
        let flusher = Thread {
            try? packer.flush()
            flushed.signal()
        }
        flusher.start()
        #expect(flushed.wait(timeout: .now() + 0.2) == .timedOut, "the flush waits for the member being sealed")
        #expect(puts.withLock { $0.isEmpty }, "no pack is written with a member half sealed")
        mayFinish.signal()
        if !appendedWhileSealing { _ = appended.wait(timeout: .now() + 10) }
        #expect(flushed.wait(timeout: .now() + 10) == .success)
        let written = puts.withLock { $0 }
        #expect(written.count == 1)
        #expect(written.first.map { Array($0[0 ..< 150]) } == [UInt8](repeating: 1, count: 100) + [UInt8](repeating: 2, count: 50))
    }

    /// A seal that fails leaves padding where its bytes were reserved, never what it had
    /// written there, and is no member: a pack holding nothing else is never written.
    @Test func aFailedSealLeavesPaddingAndNoMember() throws {
        let puts = Mutex<[[UInt8]]>([])
        let packer = BlockPacker(sealedChunkSize: Self.sealedChunk,
                                 put: { _, bytes, _ in puts.withLock { $0.append(Array(bytes)) } }, delete: { _ in },
                                 fillPadding: { $0.initializeMemory(as: UInt8.self, repeating: 0xEE) })
        func failingSeal(_ region: UnsafeMutableRawBufferPointer) throws(VaultError) {
            region.initializeMemory(as: UInt8.self, repeating: 0x55)   // stands for plaintext
            throw VaultError(.io, "sealing failed")
        }
        #expect(throws: VaultError.self) { try packer.append(byteCount: 100, caching: .bypass, seal: failingSeal) }
        try packer.flush()
        #expect(puts.withLock { $0.isEmpty }, "a pack whose only member failed is not written")

        _ = try packer.append(byteCount: 10, caching: .bypass) { $0.initializeMemory(as: UInt8.self, repeating: 1) }
        #expect(throws: VaultError.self) { try packer.append(byteCount: 100, caching: .bypass, seal: failingSeal) }
        try packer.flush()
        let written = puts.withLock { $0 }
        #expect(written.count == 1)
        #expect(written.first.map { Array($0[0 ..< 10]) } == [UInt8](repeating: 1, count: 10))
        #expect(written.first.map { !$0.contains(0x55) } == true, "the failed member's bytes became padding")
    }

    @Test func aPackIsDeletedWithItsLastMemberOnly() throws {
        let fixture = try packedFixture()
        let blocks = try (0 ..< 3).map { try fixture.write(blockTestBytes(3000, seed: UInt64($0))) }
        try fixture.store.writePendingPacks()
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
        try fixture.store.writePendingPacks()
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
        try fixture.store.writePendingPacks()
        let pack = first.pack!.object
        let sealed = Self.compactLength(100)
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
        try fixture.store.writePendingPacks()
        // Cut inside the second member: the first still reads, the second does not.
        try fixture.rewriteObject(first.pack!.object) { bytes in bytes.removeLast(bytes.count - Self.compactLength(100) - 50) }
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
        expectBlockError(.io) { try fixture.store.writePendingPacks() }
        #expect(try fixture.readAll(block) == bytes)
        #expect(fixture.store.unwrittenPacks == 1)
        for (path, away) in hidden { #expect(rename(away, path) == 0) }
        try fixture.store.writePendingPacks()
        #expect(fixture.store.unwrittenPacks == 0)
        #expect(try fixture.pool.list() == [block.pack!.object])
        #expect(try fixture.readAll(block) == bytes)
    }

    /// Every size around the chunk boundaries, read whole and in part, from the open pack and
    /// from the pool: the compact tail is exactly as long as its plaintext plus the AEAD's
    /// overhead, and nothing of a neighbour leaks into a member.
    @Test func compactMembersRoundTripAtEverySize() throws {
        let fixture = try packedFixture(cacheBudget: 0)
        let sizes = [1, 2, 27, 28, 100, 4095, 4096, 32_767, 32_768, 32_769, 40_000, 65_535, 65_536]
        let contents = sizes.enumerated().map { blockTestBytes($1, seed: 100 + UInt64($0)) }
        let blocks = try contents.map { try fixture.write($0) }
        func checkReads(_ when: String) throws {
            for (block, bytes) in zip(blocks, contents) {
                #expect(try fixture.readAll(block) == bytes, "\(bytes.count) bytes, \(when)")
                let tail = max(0, bytes.count - Self.chunk - 10) ..< bytes.count
                #expect(try fixture.read(block, tail) == Array(bytes[tail]), "last bytes of \(bytes.count), \(when)")
            }
        }
        try checkReads("from memory")
        try fixture.store.writePendingPacks()
        let pack = try #require(blocks[0].pack?.object)
        #expect(try fixture.pool.head(pack).length == Self.packLength(sizes))
        try checkReads("from the pool")
    }

    /// I1: a pack is padded to whole sealed chunks with random bytes, so a lone small file's
    /// pack shows only its chunk-rounded size, and no run of zeros marks where members end.
    @Test func aPackIsPaddedToWholeChunksWithRandomBytes() throws {
        let fixture = try packedFixture()
        var paddings: [[UInt8]] = []
        for seed in 0 ..< 2 {
            let block = try fixture.write(blockTestBytes(100, seed: UInt64(seed)))
            try fixture.store.writePendingPacks()  // one pack per member
            let stored = try fixture.pool.get(block.pack!.object)
            #expect(stored.count == Self.sealedChunk, "a 100-byte member's pack is one sealed chunk long")
            let padding = Array(stored[Self.compactLength(100)...])
            #expect(padding.filter { $0 == 0 }.count < padding.count / 64, "the padding is not zeros")
            paddings.append(padding)
        }
        #expect(paddings[0] != paddings[1], "each pack gets fresh padding")
    }

    /// Vaults written before compact members hold chunk-aligned ones (every chunk padded, the
    /// member located by chunk number): they still read, whole and in part.
    @Test func chunkAlignedMembersOfEarlierVaultsStillRead() throws {
        let fixture = try packedFixture()
        let sizes = [5000, 40_000]
        let contents = sizes.enumerated().map { blockTestBytes($1, seed: 7 + UInt64($0)) }
        let ids = sizes.map { _ in ObjectID.random() }
        var pack = [UInt8](repeating: 0, count: 3 * Self.sealedChunk)
        var chunkNumber = 0
        for (bytes, id) in zip(contents, ids) {
            for (index, start) in stride(from: 0, to: bytes.count, by: Self.chunk).enumerated() {
                var padded = Array(bytes[start ..< min(bytes.count, start + Self.chunk)])
                padded += [UInt8](repeating: 0, count: Self.chunk - padded.count)
                let offset = chunkNumber * Self.sealedChunk
                _ = try padded.withUnsafeBytes { plaintext in
                    try pack.withUnsafeMutableBytes { output in
                        try fixture.cipher.sealChunk(plaintext: plaintext, blockID: id.blockID, index: UInt32(index),
                                                     into: UnsafeMutableRawBufferPointer(rebasing: output[offset ..< offset + Self.sealedChunk]))
                    }
                }
                chunkNumber += 1
            }
        }
        let packID = ObjectID.random()
        try fixture.pool.put(packID, bytes: pack)
        let blocks = zip(ids, sizes).enumerated().map { index, member in
            BlockReference(id: member.0, length: UInt32(member.1),
                           pack: PackLocation(object: packID, placement: .chunkAligned(firstChunk: UInt32(index))))
        }
        for (block, bytes) in zip(blocks, contents) {
            #expect(try fixture.readAll(block) == bytes)
            #expect(try fixture.read(block, 4000 ..< bytes.count) == Array(bytes[4000...]))
        }
    }
}
