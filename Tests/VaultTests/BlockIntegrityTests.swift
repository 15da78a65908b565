import Foundation
import Testing
import VaultCrypto
import VolumePool
@testable import Vault

/// I1 and I3 for blocks: bit rot is repaired by the pool, everything that survives the pool
/// is caught by authentication and reported as EIO naming the block, and no plaintext ever
/// reaches a volume.
@Suite struct BlockIntegrityTests {
    static let chunk = BlockStore.chunkSize

    @Test func aFlippedByteInAShardFileIsRepairedByThePool() throws {
        let fixture = try BlockStoreFixture(cacheBudget: 0)
        let plaintext = blockTestBytes(3 * Self.chunk + 11, seed: 21)
        let block = try fixture.write(plaintext, durable: true)
        // Data shard 0 holds the start of the object: the read below must touch the damage.
        let shard = try #require(fixture.shardFiles(of: block.id).first { $0.shardIndex == 0 })
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: shard.path)))
        bytes[100] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: shard.path))

        #expect(try fixture.read(block, 0 ..< 200) == Array(plaintext[0 ..< 200]))
        #expect(try fixture.readAll(block) == plaintext)
        #expect(fixture.pool.counters.degradedReads > 0)
    }

    @Test func aFlippedCiphertextByteThatSurvivesThePoolIsAnIOError() throws {
        let fixture = try BlockStoreFixture(cacheBudget: 0)
        let plaintext = blockTestBytes(3 * Self.chunk, seed: 22)
        let block = try fixture.write(plaintext)
        let sealedChunk = Self.chunk + fixture.cipher.overhead
        // A byte in the middle of chunk 1's ciphertext, re-put so the pool checksums agree.
        try fixture.rewriteObject(block.id) { $0[sealedChunk + 5000] ^= 0x01 }

        let error = expectBlockError(.io) { _ = try fixture.readAll(block) }
        #expect(error?.context.contains(block.id.hex) == true, "\(String(describing: error))")
        #expect(error?.context.contains("authentication") == true)
        // Chunks 0 and 2 are intact and still read; only ranges touching chunk 1 fail.
        #expect(try fixture.read(block, 0 ..< Self.chunk) == Array(plaintext[0 ..< Self.chunk]))
        #expect(try fixture.read(block, 2 * Self.chunk ..< 3 * Self.chunk) == Array(plaintext[2 * Self.chunk ..< 3 * Self.chunk]))
        expectBlockError(.io) { _ = try fixture.read(block, Self.chunk + 7 ..< Self.chunk + 8) }
    }

    @Test func tamperingIsNeverReturnedAsBytesNorCached() throws {
        let fixture = try BlockStoreFixture(cacheBudget: 1 << 20)
        let block = try fixture.write(blockTestBytes(Self.chunk, seed: 23))
        try fixture.rewriteObject(block.id) { $0[$0.count - 1] ^= 0x80 }  // the tag
        var output = [UInt8](repeating: 0xEE, count: Self.chunk)
        expectBlockError(.io) {
            try output.withUnsafeMutableBytes { raw in try fixture.store.read(block, range: 0 ..< Self.chunk, into: raw) }
        }
        // The chunk was decrypted straight into `output`: the cipher must have wiped it.
        #expect(output.allSatisfy { $0 == 0 || $0 == 0xEE })
        #expect(fixture.store.cache.counters.insertions == 0)
    }

    @Test func swappingTwoChunksInsideTheObjectIsDetected() throws {
        let fixture = try BlockStoreFixture(cacheBudget: 0)
        let block = try fixture.write(blockTestBytes(4 * Self.chunk, seed: 24))
        let sealedChunk = Self.chunk + fixture.cipher.overhead
        try fixture.rewriteObject(block.id) { bytes in
            let first = Array(bytes[0 ..< sealedChunk])
            bytes.replaceSubrange(0 ..< sealedChunk, with: bytes[sealedChunk ..< 2 * sealedChunk])
            bytes.replaceSubrange(sealedChunk ..< 2 * sealedChunk, with: first)
        }
        expectBlockError(.io) { _ = try fixture.read(block, 0 ..< 10) }
        expectBlockError(.io) { _ = try fixture.read(block, Self.chunk ..< Self.chunk + 10) }
        expectBlockError(.io) { _ = try fixture.readAll(block) }
    }

    @Test func aBlocksBytesUnderAnotherIdAreRejected() throws {
        let fixture = try BlockStoreFixture(cacheBudget: 0)
        let original = try fixture.write(blockTestBytes(2 * Self.chunk + 3, seed: 25))
        let victim = try fixture.write(blockTestBytes(2 * Self.chunk + 3, seed: 26))
        // Same length, so only the block id in the associated data can tell them apart.
        try fixture.pool.delete(victim.id)
        try fixture.rewriteObject(original.id, as: victim.id) { _ in }
        let error = expectBlockError(.io) { _ = try fixture.readAll(victim) }
        #expect(error?.context.contains(victim.id.hex) == true)
    }

    @Test func truncatedOrExtendedObjectsAreRejected() throws {
        let fixture = try BlockStoreFixture(cacheBudget: 0)
        let sealedChunk = Self.chunk + fixture.cipher.overhead
        let plaintext = blockTestBytes(3 * Self.chunk, seed: 27)
        let truncated = try fixture.write(plaintext)
        try fixture.rewriteObject(truncated.id) { $0.removeLast(sealedChunk) }
        expectBlockError(.io) { _ = try fixture.read(truncated, 2 * Self.chunk ..< 2 * Self.chunk + 1) }
        // The surviving chunks authenticate, but the length check still refuses the object.
        expectBlockError(.io) { _ = try fixture.read(truncated, 0 ..< 1) }

        let extended = try fixture.write(plaintext)
        try fixture.rewriteObject(extended.id) { $0 += $0[0 ..< sealedChunk] }
        expectBlockError(.io) { _ = try fixture.read(extended, 0 ..< 1) }
    }

    @Test func aMissingObjectIsAnIOErrorNamingTheBlock() throws {
        let fixture = try BlockStoreFixture()
        let block = BlockReference(id: .random(), length: 100)
        let error = expectBlockError(.io) { _ = try fixture.readAll(block) }
        #expect(error?.context.contains(block.id.hex) == true)
    }

    /// I1: a block whose plaintext is a distinctive repeated 64-byte marker leaves no 16-byte
    /// window of it in any shard file (data shards store ciphertext verbatim, so this is
    /// where plaintext would show).
    @Test func noPlaintextReachesTheVolumes() throws {
        let fixture = try BlockStoreFixture(dataShards: 2, parityShards: 1)
        let marker = Array("ShardVault zero-knowledge marker: if you can read this, I1 broke".utf8)
        try #require(marker.count == 64)
        let plaintext = (0 ..< (1 << 20) / 64).flatMap { _ in marker } + Array(marker[0 ..< 17])
        let block = try fixture.write(plaintext, durable: true)
        #expect(try fixture.readAll(block) == plaintext)

        let files = fixture.allShardFiles()
        #expect(files.count == 3)
        #expect(Self.containsMarkerWindow(plaintext, marker: marker), "the scan itself must find plaintext")
        for path in files {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(bytes.count > 300_000)
            #expect(!Self.containsMarkerWindow(bytes, marker: marker), "plaintext marker found in \(path)")
        }
    }

    /// Whether any 16-byte window of the repeating `marker` occurs in `bytes`.
    private static func containsMarkerWindow(_ bytes: [UInt8], marker: [UInt8]) -> Bool {
        let windows = Set((0 ..< marker.count).map { offset in
            let window = (0 ..< 16).map { marker[(offset + $0) % marker.count] }
            return window.withUnsafeBytes { Window(first: $0.loadUnaligned(as: UInt64.self),
                                                   second: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
        })
        return bytes.withUnsafeBytes { raw in
            (0 ..< max(0, raw.count - 15)).contains { index in
                windows.contains(Window(first: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self),
                                        second: raw.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self)))
            }
        }
    }

    private struct Window: Hashable {
        var first: UInt64
        var second: UInt64
    }
}
