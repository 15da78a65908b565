import Foundation
import Testing
import VaultCrypto
import VolumePool
@testable import Vault

/// Throughput of BlockStore against raw VolumePool put/get of objects of the same size, in the
/// same run, so the difference is the cost of the crypto layer (sealing, opening, copies).
///
/// Off by default (it moves a few hundred MiB); run it in a release build with
///
///     SHARDVAULT_BLOCK_BENCH=1 swift test -c release --scratch-path .build-blocks \
///         --filter BlockStoreBenchmark
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["SHARDVAULT_BLOCK_BENCH"] != nil))
struct BlockStoreBenchmark {
    static let blocksPerRound = 32
    static let rounds = 3

    @Test func fourMiBBlocksAgainstRawPool() throws {
        let fixture = try BlockStoreFixture(cacheBudget: 0)  // every read authenticates from the pool
        // The same blocks through a store with the default 64 MiB cache: cold reads pay one
        // copy into the cache; re-reads of a cached block are memcpy only.
        let cachingStore = BlockStore(pool: fixture.pool, cipher: fixture.cipher)
        let plaintext = blockTestBytes(BlockStore.blockSize, seed: 42)
        let storedLength = fixture.store.storedLength(plaintextLength: plaintext.count)
        let rawObject = blockTestBytes(storedLength, seed: 43)
        var output = [UInt8](repeating: 0, count: plaintext.count)
        let megabytes = Double(Self.blocksPerRound * plaintext.count) / 1e6
        var best: [String: Double] = [:]

        func measure(_ name: String, _ body: () throws -> Void) rethrows {
            let start = ContinuousClock.now
            try body()
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            best[name] = max(best[name] ?? 0, megabytes / seconds)
        }

        for _ in 0 ..< Self.rounds {
            var rawIDs: [ObjectID] = []
            var blocks: [BlockReference] = []
            try measure("pool.put") {
                for _ in 0 ..< Self.blocksPerRound {
                    let id = ObjectID.random()
                    try fixture.pool.put(id, bytes: rawObject, durable: false)
                    rawIDs.append(id)
                }
            }
            try measure("BlockStore.write") {
                for _ in 0 ..< Self.blocksPerRound {
                    blocks.append(try plaintext.withUnsafeBytes { try fixture.store.write($0, durable: false) })
                }
            }
            try measure("pool.get") {
                for id in rawIDs {
                    var sink = DiscardingSink()
                    try fixture.pool.get(id, into: &sink)
                }
            }
            try measure("BlockStore.read") {
                for block in blocks {
                    try output.withUnsafeMutableBytes { try fixture.store.read(block, range: 0 ..< plaintext.count, into: $0) }
                }
            }
            #expect(output == plaintext)
            try measure("BlockStore.read, cache fill") {
                for block in blocks {
                    try output.withUnsafeMutableBytes { try cachingStore.read(block, range: 0 ..< plaintext.count, into: $0) }
                }
            }
            try measure("BlockStore.read, cache hit") {
                for _ in blocks {
                    try output.withUnsafeMutableBytes { try cachingStore.read(blocks[blocks.count - 1], range: 0 ..< plaintext.count, into: $0) }
                }
            }
            #expect(output == plaintext)
            try measure("seal only (ContentCipher)") { try sealOnly(fixture.cipher, plaintext) }
            for id in rawIDs { try fixture.pool.delete(id) }
            for block in blocks { cachingStore.delete(block) }
        }

        print("BlockStore benchmark: \(Self.blocksPerRound) × 4 MiB per round, best of \(Self.rounds) rounds, "
            + "\(fixture.pool.dataShards)+\(fixture.pool.parityShards) pool, \(fixture.cipher.algorithm), durable: false")
        for name in ["pool.put", "BlockStore.write", "pool.get", "BlockStore.read", "BlockStore.read, cache fill",
                     "BlockStore.read, cache hit", "seal only (ContentCipher)"] {
            print("  \(name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(format: "%8.1f", best[name] ?? 0)) MB/s")
        }
        print(String(format: "  write: BlockStore at %.0f%% of raw put; read: BlockStore at %.0f%% of raw get",
                     100 * (best["BlockStore.write"] ?? 0) / (best["pool.put"] ?? 1),
                     100 * (best["BlockStore.read"] ?? 0) / (best["pool.get"] ?? 1)))
    }

    /// Sealing the same bytes chunk by chunk with no pool at all: the crypto ceiling.
    private func sealOnly(_ cipher: ContentCipher, _ plaintext: [UInt8]) throws {
        var sealed = [UInt8](repeating: 0, count: BlockStore.chunkSize + cipher.overhead)
        let block = BlockID.random()
        for _ in 0 ..< Self.blocksPerRound {
            try plaintext.withUnsafeBytes { plain in
                try sealed.withUnsafeMutableBytes { output in
                    for index in 0 ..< plain.count / BlockStore.chunkSize {
                        let chunk = UnsafeRawBufferPointer(rebasing: plain[index * BlockStore.chunkSize ..< (index + 1) * BlockStore.chunkSize])
                        _ = try cipher.sealChunk(plaintext: chunk, blockID: block, index: UInt32(index), into: output)
                    }
                }
            }
        }
    }
}
