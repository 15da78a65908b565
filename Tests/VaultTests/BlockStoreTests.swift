import Foundation
import Testing
import VaultCrypto
import VolumePool
@testable import Vault

/// Round trips, ranged reads and the stored layout of BlockStore over a real 4+2 pool.
@Suite struct BlockStoreTests {
    static let chunk = BlockStore.chunkSize
    static let sizes = [0, 1, chunk - 1, chunk, chunk + 1, (1 << 20) + 17, BlockStore.blockSize]

    @Test(arguments: sizes)
    func roundTripsEverySize(size: Int) throws {
        let fixture = try BlockStoreFixture()
        let plaintext = blockTestBytes(size, seed: UInt64(size))
        let block = try fixture.write(plaintext)
        #expect(block.length == UInt32(size))
        #expect(try fixture.readAll(block) == plaintext, "size \(size)")
        // Again from a cold cache, so the bytes come from the pool.
        fixture.store.cache.removeAll()
        #expect(try fixture.readAll(block) == plaintext, "size \(size), cold cache")
    }

    @Test(arguments: AEADAlgorithm.allCases)
    func roundTripsWithEitherAEAD(algorithm: AEADAlgorithm) throws {
        let fixture = try BlockStoreFixture(algorithm: algorithm)
        let plaintext = blockTestBytes(3 * Self.chunk + 5, seed: 3)
        let block = try fixture.write(plaintext, durable: true)
        #expect(try fixture.readAll(block) == plaintext)
        #expect(try fixture.pool.head(block.id).length == 4 * (Self.chunk + algorithm.overhead))
    }

    /// Stripes smaller than a sealed chunk, or not a multiple of it, make the pool hand over
    /// and ask for bytes in pieces that cut chunks anywhere.
    @Test(arguments: [4096, 40_000, 3 * 32796 + 5])
    func roundTripsWhateverTheStripeSize(stripeSize: Int) throws {
        let fixture = try BlockStoreFixture(dataShards: 2, parityShards: 1, stripeSize: stripeSize, cacheBudget: 0)
        let plaintext = blockTestBytes(9 * Self.chunk + 321, seed: UInt64(stripeSize))
        let block = try fixture.write(plaintext)
        #expect(try fixture.readAll(block) == plaintext)
        #expect(try fixture.read(block, Self.chunk - 9 ..< 4 * Self.chunk + 9) == Array(plaintext[Self.chunk - 9 ..< 4 * Self.chunk + 9]))
    }

    @Test func rangedReadsAtOddOffsetsAcrossChunkBoundaries() throws {
        let fixture = try BlockStoreFixture(cacheBudget: 0)  // every read goes to the pool
        let size = 5 * Self.chunk + 1234
        let plaintext = blockTestBytes(size, seed: 77)
        let block = try fixture.write(plaintext)
        let c = Self.chunk
        let ranges: [Range<Int>] = [
            0 ..< 1, 1 ..< 2, c - 1 ..< c + 1, c - 3 ..< 2 * c + 3, 17 ..< 4 * c + 999,
            c ..< 2 * c, 2 * c + 1 ..< 2 * c + 2, size - 1 ..< size, 5 * c - 7 ..< size,
            4097 ..< size, 0 ..< size, 3 * c ..< 3 * c, size ..< size,
        ]
        for range in ranges {
            #expect(try fixture.read(block, range) == Array(plaintext[range]), "range \(range)")
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0 ..< 40 {
            let start = Int.random(in: 0 ..< size, using: &generator)
            let end = Int.random(in: start ... size, using: &generator)
            #expect(try fixture.read(block, start ..< end) == Array(plaintext[start ..< end]), "range \(start)..<\(end)")
        }
    }

    @Test func rangedReadFetchesOnlyTheTouchedChunks() throws {
        let fixture = try BlockStoreFixture(cacheBudget: 1 << 20)
        let plaintext = blockTestBytes(64 * Self.chunk, seed: 5)
        let block = try fixture.write(plaintext)
        #expect(try fixture.read(block, 10 * Self.chunk - 5 ..< 11 * Self.chunk + 5) == Array(plaintext[10 * Self.chunk - 5 ..< 11 * Self.chunk + 5]))
        #expect(fixture.store.counters.chunksOpened == 3)
        #expect(fixture.store.counters.objectFetches == 1)
    }

    @Test func outOfBoundsRequestsAreRefused() throws {
        let fixture = try BlockStoreFixture()
        let block = try fixture.write(blockTestBytes(100, seed: 1))
        expectBlockError(.invalidArgument) { _ = try fixture.read(block, 50 ..< 101) }
        var small = [UInt8](repeating: 0, count: 10)
        expectBlockError(.invalidArgument) {
            try small.withUnsafeMutableBytes { raw in try fixture.store.read(block, range: 0 ..< 20, into: raw) }
        }
        let tooBig = [UInt8](repeating: 1, count: BlockStore.blockSize + 1)
        expectBlockError(.invalidArgument) { _ = try fixture.write(tooBig) }
    }

    /// The object holds whole sealed chunks only: its length reveals the plaintext length
    /// rounded up to 32 KiB, and two blocks in the same chunk count look the same size.
    @Test func storedObjectSizeIsChunkRounded() throws {
        let fixture = try BlockStoreFixture()
        let sealedChunk = Self.chunk + fixture.cipher.overhead
        for size in Self.sizes + [2 * Self.chunk - 1, 2 * Self.chunk] {
            let block = try fixture.write(blockTestBytes(size, seed: 9))
            let chunks = (size + Self.chunk - 1) / Self.chunk
            let stored = try fixture.pool.head(block.id).length
            #expect(stored == chunks * sealedChunk, "size \(size)")
            #expect(stored == fixture.store.storedLength(plaintextLength: size))
        }
        let one = try fixture.write(blockTestBytes(1, seed: 1))
        let almostFull = try fixture.write(blockTestBytes(Self.chunk, seed: 1))
        #expect(try fixture.pool.head(one.id).length == fixture.pool.head(almostFull.id).length)
    }

    @Test func eachWriteGetsAFreshObjectAndDeleteRemovesIt() throws {
        let fixture = try BlockStoreFixture()
        let plaintext = blockTestBytes(70_000, seed: 4)
        let first = try fixture.write(plaintext)
        let second = try fixture.write(plaintext)
        #expect(first.id != second.id)
        // Fresh nonces: the same plaintext never gives the same ciphertext.
        #expect(try fixture.pool.get(first.id) != fixture.pool.get(second.id))
        _ = try fixture.readAll(first)
        fixture.store.delete(first)
        #expect(fixture.store.counters.deleteFailures == 0)
        #expect(fixture.shardFiles(of: first.id).isEmpty)
        #expect(fixture.store.cache.counters.residentBytes == 0)
        let error = expectBlockError(.io) { _ = try fixture.readAll(first) }
        #expect(error?.context.contains(first.id.hex) == true)
        #expect(try fixture.readAll(second) == plaintext)
    }

    @Test func durableAndBatchedWritesBothSurviveReopen() throws {
        let fixture = try BlockStoreFixture()
        let plaintext = blockTestBytes(200_000, seed: 8)
        let batched = try fixture.write(plaintext, durable: false)
        let durable = try fixture.write(plaintext, durable: true)
        try fixture.pool.sync()
        var options = VolumePool.Options()
        options.healsInBackground = false
        fixture.pool.close()
        let reopened = try VolumePool.open(volumePaths: fixture.volumePaths, options: options)
        defer { reopened.close() }
        let store = BlockStore(pool: reopened, cipher: fixture.cipher)
        for block in [batched, durable] {
            var bytes = [UInt8](repeating: 0, count: plaintext.count)
            try bytes.withUnsafeMutableBytes { raw in try store.read(block, range: 0 ..< plaintext.count, into: raw) }
            #expect(bytes == plaintext)
        }
    }
}

@Suite struct BlockPrefetchTests {
    @Test func aPrefetchedBlockIsReadFromTheCacheWithoutASecondFetch() throws {
        let fixture = try BlockStoreFixture(cacheBudget: 16 << 20)
        let plaintext = blockTestBytes(BlockStore.blockSize, seed: 9)
        let block = try fixture.write(plaintext)
        fixture.store.prefetch(block)
        // The read waits for the running prefetch instead of fetching the chunks itself.
        #expect(try fixture.read(block, 0 ..< plaintext.count) == plaintext)
        #expect(fixture.store.counters.blocksPrefetched == 1)
        #expect(fixture.store.counters.objectFetches == 1)
        // Cached now: a second prefetch does nothing.
        fixture.store.prefetch(block)
        #expect(try fixture.read(block, 0 ..< plaintext.count) == plaintext)
        #expect(fixture.store.counters.objectFetches == 1)
    }

    @Test func aSequentialReaderGetsTheNextBlocksPrefetchedAndARandomReaderDoesNot() throws {
        let fixture = try VaultFixture()
        let size = 3 * BlockStore.blockSize + 12345
        let content = blockTestBytes(size, seed: 11)
        let (inode, _) = try fixture.vault.mknod(Namespace.rootInode, "stream", kind: .regular, permissions: 0o644, uid: 0, gid: 0)
        try fixture.write(inode, at: 0, content)
        try fixture.reopen()   // an empty cache
        let handle = try fixture.vault.open(inode)
        defer { try? fixture.vault.release(handle) }
        var piece = [UInt8](repeating: 0, count: 1 << 20)
        var readBack: [UInt8] = []
        for offset in stride(from: 0, to: size, by: piece.count) {
            let count = try piece.withMutableVaultBytes { (raw) throws(VaultError) in
                try fixture.vault.read(handle, at: UInt64(offset), into: raw)
            }
            readBack += piece[0 ..< count]
        }
        #expect(readBack == content)
        #expect(fixture.vault.blocks.counters.blocksPrefetched >= 1)

        try fixture.reopen()
        let random = try fixture.vault.open(inode)
        defer { try? fixture.vault.release(random) }
        for offset in [3 * BlockStore.blockSize, 5, 2 * BlockStore.blockSize + 7, BlockStore.blockSize + 99] {
            _ = try piece.withMutableVaultBytes { (raw) throws(VaultError) in
                try fixture.vault.read(random, at: UInt64(offset), into: raw)
            }
        }
        #expect(fixture.vault.blocks.counters.blocksPrefetched == 0)
    }
}
