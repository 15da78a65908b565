import Foundation
import Testing
import VolumePool
@testable import Vault

/// The decrypted-chunk cache on its own (counters, byte bound, CLOCK order) and as BlockStore
/// uses it (hits never touch the pool, partial hits fetch only the missing runs).
@Suite struct ChunkCacheTests {
    static let chunk = ChunkCache.slotSize

    private func key(_ block: ObjectID, _ index: Int) -> ChunkCache.Key {
        ChunkCache.Key(block: block, chunk: UInt32(index))
    }

    private func insert(_ cache: ChunkCache, _ key: ChunkCache.Key, fill: UInt8) {
        let bytes = [UInt8](repeating: fill, count: Self.chunk)
        bytes.withUnsafeBytes { cache.insert(key, plaintext: $0) }
    }

    /// The bytes `range` of a cached chunk, or nil on a miss.
    private func lookup(_ cache: ChunkCache, _ key: ChunkCache.Key, _ range: Range<Int> = 0 ..< 8) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: range.count)
        let hit = bytes.withUnsafeMutableBytes { cache.copy(key, range: range, to: $0.baseAddress!) }
        return hit ? bytes : nil
    }

    @Test func countsHitsMissesAndCopiesTheAskedRange() {
        let cache = ChunkCache(byteBudget: 4 * Self.chunk)
        let block = ObjectID.random()
        #expect(lookup(cache, key(block, 0)) == nil)
        let plaintext = blockTestBytes(Self.chunk, seed: 1)
        plaintext.withUnsafeBytes { cache.insert(key(block, 0), plaintext: $0) }
        #expect(lookup(cache, key(block, 0), 100 ..< 300) == Array(plaintext[100 ..< 300]))
        #expect(lookup(cache, key(block, 1)) == nil)
        #expect(lookup(ChunkCache(byteBudget: 0), key(block, 0)) == nil)
        let counters = cache.counters
        #expect(counters.hits == 1 && counters.misses == 2 && counters.insertions == 1 && counters.evictions == 0)
        #expect(counters.residentBytes == Self.chunk)
    }

    @Test func neverHoldsMoreThanItsBudget() {
        let budget = 5 * Self.chunk + 1000  // rounds down to five chunks
        let cache = ChunkCache(byteBudget: budget)
        #expect(cache.slotCount == 5)
        let block = ObjectID.random()
        for index in 0 ..< 40 {
            insert(cache, key(block, index), fill: UInt8(index))
            #expect(cache.counters.residentBytes <= budget)
        }
        #expect(cache.counters.evictions == 35)
        #expect(cache.counters.residentBytes == 5 * Self.chunk)
        // Surviving entries hold their own bytes, not a neighbour's.
        for index in 0 ..< 40 {
            if let bytes = lookup(cache, key(block, index)) { #expect(bytes == [UInt8](repeating: UInt8(index), count: 8)) }
        }
        #expect(cache.counters.hits == 5)
        cache.removeAll()
        #expect(cache.counters.residentBytes == 0)
    }

    @Test func clockGivesRecentlyUsedChunksASecondChance() {
        let cache = ChunkCache(byteBudget: 3 * Self.chunk)
        let block = ObjectID.random()
        for index in 0 ..< 3 { insert(cache, key(block, index), fill: UInt8(index)) }
        #expect(lookup(cache, key(block, 0)) != nil)  // 0 referenced
        insert(cache, key(block, 3), fill: 3)         // evicts 1, the oldest unreferenced
        #expect(lookup(cache, key(block, 1)) == nil)
        #expect(lookup(cache, key(block, 0)) != nil)
        #expect(lookup(cache, key(block, 2)) != nil)
        #expect(lookup(cache, key(block, 3)) != nil)
        #expect(cache.counters.evictions == 1)
    }

    @Test func aReadServedFromTheCacheDoesNotTouchThePool() throws {
        let fixture = try BlockStoreFixture(cacheBudget: 8 << 20)
        let plaintext = blockTestBytes(6 * Self.chunk + 99, seed: 31)
        let block = try fixture.write(plaintext)
        #expect(try fixture.readAll(block) == plaintext)
        let poolReads = fixture.pool.counters.objectsRead
        let fetches = fixture.store.counters.objectFetches
        let hits = fixture.store.cache.counters.hits

        #expect(try fixture.readAll(block) == plaintext)
        #expect(try fixture.read(block, 3 * Self.chunk - 2 ..< 3 * Self.chunk + 2) == Array(plaintext[3 * Self.chunk - 2 ..< 3 * Self.chunk + 2]))
        #expect(fixture.pool.counters.objectsRead == poolReads)
        #expect(fixture.store.counters.objectFetches == fetches)
        #expect(fixture.store.cache.counters.hits == hits + 7 + 2)
    }

    @Test func aPartlyCachedRangeFetchesOnlyTheMissingRuns() throws {
        let fixture = try BlockStoreFixture(cacheBudget: 8 << 20)
        let plaintext = blockTestBytes(8 * Self.chunk, seed: 32)
        let block = try fixture.write(plaintext)
        _ = try fixture.read(block, 3 * Self.chunk + 1 ..< 3 * Self.chunk + 2)  // caches chunk 3
        _ = try fixture.read(block, 6 * Self.chunk ..< 6 * Self.chunk + 1)      // caches chunk 6
        #expect(fixture.store.counters.objectFetches == 2)
        // Chunks 1…7: runs 1–2, 4–5 and 7 are fetched; 3 and 6 come from the cache.
        #expect(try fixture.read(block, Self.chunk + 5 ..< 8 * Self.chunk) == Array(plaintext[Self.chunk + 5 ..< 8 * Self.chunk]))
        #expect(fixture.store.counters.objectFetches == 5)
        #expect(fixture.store.counters.chunksOpened == 2 + 5)
        let counters = fixture.store.cache.counters
        #expect(counters.hits == 2 && counters.misses == 2 + 5)
    }

    @Test func aSmallCacheStillReadsLargeBlocksCorrectly() throws {
        let fixture = try BlockStoreFixture(cacheBudget: 2 * Self.chunk)
        let plaintext = blockTestBytes(40 * Self.chunk + 1, seed: 33)
        let block = try fixture.write(plaintext)
        for _ in 0 ..< 2 { #expect(try fixture.readAll(block) == plaintext) }
        let counters = fixture.store.cache.counters
        #expect(counters.residentBytes <= 2 * Self.chunk)
        #expect(counters.evictions >= 2 * 41 - 2 - 2)
    }
}
