import Foundation
import Synchronization
import Testing
import VolumePool
@testable import Vault
import SeededRandom

/// Eight threads writing, reading (whole and ranged), and deleting blocks on one store, with
/// a cache small enough to evict constantly, while also reading a set of shared blocks.
@Suite struct BlockStoreConcurrencyTests {
    static let chunk = BlockStore.chunkSize

    @Test func eightThreadsWriteAndReadConcurrently() throws {
        let fixture = try BlockStoreFixture(cacheBudget: 24 * Self.chunk)
        let shared = try (0 ..< 4).map { index in
            let bytes = blockTestBytes(5 * Self.chunk + index * 1000, seed: 1000 + UInt64(index))
            return (try fixture.write(bytes), bytes)
        }
        let failures = Mutex<[String]>([])
        let store = fixture.store

        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            func fail(_ message: String) { failures.withLock { $0.append("thread \(thread): \(message)") } }
            var random = SplitMix64(seed: UInt64(thread) &* 7919)
            var mine: [(BlockReference, [UInt8])] = []
            for round in 0 ..< 12 {
                let size = [1, Self.chunk - 1, Self.chunk + 1, 3 * Self.chunk + 7, 300_000][Int(random.next() % 5)]
                let bytes = blockTestBytes(size, seed: UInt64(thread * 100 + round))
                do {
                    let block = try bytes.withUnsafeBytes { try store.write($0, durable: false) }
                    mine.append((block, bytes))
                    for (block, expected) in mine + [shared[Int(random.next() % 4)]] {
                        let start = Int(random.next() % UInt64(expected.count))
                        let end = start + Int(random.next() % UInt64(expected.count - start + 1))
                        var got = [UInt8](repeating: 0, count: end - start)
                        try got.withUnsafeMutableBytes { try store.read(block, range: start ..< end, into: $0) }
                        if got != Array(expected[start ..< end]) { fail("block \(block.id) range \(start)..<\(end) differs") }
                    }
                    if mine.count > 4 {
                        store.delete(mine.removeFirst().0)
                    }
                } catch {
                    fail("round \(round): \(error)")
                }
            }
        }

        #expect(failures.withLock { $0 } == [])
        for (block, bytes) in shared { #expect(try fixture.readAll(block) == bytes) }
        let counters = fixture.store.counters
        #expect(counters.blocksWritten == 4 + 8 * 12)
        #expect(counters.deleteFailures == 0)
        #expect(fixture.store.cache.counters.residentBytes <= 24 * Self.chunk)
        #expect(fixture.store.cache.counters.hits > 0)
    }
}

