import Foundation
import Testing
import VaultCrypto
import VolumePool
@testable import Vault

/// A real k+m VolumePool in a fresh temporary directory, fresh master keys, and a BlockStore
/// over them. Everything on disk is removed when the fixture goes away. Small blocks get
/// objects of their own unless `packsSmallBlocks` (BlockPackingTests covers packs).
final class BlockStoreFixture {
    let root: String
    let volumePaths: [String]
    let pool: VolumePool
    let cipher: ContentCipher
    let store: BlockStore

    init(dataShards: Int = 4, parityShards: Int = 2, stripeSize: Int = VolumePool.defaultStripeSize,
         cacheBudget: Int = 8 << 20, algorithm: AEADAlgorithm = .aes256GCM, packsSmallBlocks: Bool = false) throws {
        var template = Array((NSTemporaryDirectory() + "shardvault-blocks-XXXXXX").utf8CString)
        root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        let root = root
        volumePaths = (0 ..< dataShards + parityShards).map { root + "/volume\($0)" }
        try VolumePool.create(volumePaths: volumePaths, dataShards: dataShards, parityShards: parityShards,
                              stripeSize: stripeSize)
        var options = VolumePool.Options()
        options.healsInBackground = false  // tests look at shard files; no repairs behind their back
        pool = try VolumePool.open(volumePaths: volumePaths, options: options)
        cipher = try ContentCipher(keys: MasterKeys.generate(), algorithm: algorithm)
        store = BlockStore(pool: pool, cipher: cipher, cache: ChunkCache(byteBudget: cacheBudget),
                           packsSmallBlocks: packsSmallBlocks)
    }

    deinit {
        pool.close()
        try? FileManager.default.removeItem(atPath: root)
    }

    func write(_ bytes: [UInt8], durable: Bool = false) throws -> BlockReference {
        try bytes.withUnsafeBytes { raw in try store.write(raw, durable: durable) }
    }

    func read(_ block: BlockReference, _ range: Range<Int>) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: range.count)
        try bytes.withUnsafeMutableBytes { raw in try store.read(block, range: range, into: raw) }
        return bytes
    }

    func readAll(_ block: BlockReference) throws -> [UInt8] {
        try read(block, 0 ..< Int(block.length))
    }

    /// Every shard file of `id`, with the shard index its trailer records.
    func shardFiles(of id: ObjectID) -> [(path: String, shardIndex: Int)] {
        volumePaths.compactMap { volume in
            let path = volume + "/objects/" + id.hex.prefix(2) + "/" + id.hex
            guard let data = FileManager.default.contents(atPath: path), data.count >= 64 else { return nil }
            // Trailer: the last 64 bytes; byte 10 is the shard index (docs/FORMAT-pool.md).
            return (path, Int(data[data.count - 64 + 10]))
        }
    }

    /// Every shard file in the pool.
    func allShardFiles() -> [String] {
        volumePaths.flatMap { volume -> [String] in
            let objects = volume + "/objects"
            let names = FileManager.default.enumerator(atPath: objects)?.compactMap { $0 as? String } ?? []
            return names.filter { $0.count == 35 }.map { objects + "/" + $0 }
        }
    }

    /// Replaces the stored object `id` through the pool API with `transform` applied to its
    /// bytes: tampering that the pool's own checksums cannot see, because they are recomputed.
    func rewriteObject(_ id: ObjectID, as newID: ObjectID? = nil, _ transform: (inout [UInt8]) -> Void) throws {
        var bytes = try pool.get(id)
        transform(&bytes)
        if newID == nil { try pool.delete(id) }
        try pool.put(newID ?? id, bytes: bytes)
    }
}

/// Deterministic, non-repeating test bytes (splitmix64); `seed` shows up in failure messages.
func blockTestBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var bytes = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
        state &+= 0x9E37_79B9_7F4A_7C15
        var word = state
        word = (word ^ (word >> 30)) &* 0xBF58_476D_1CE4_E5B9
        word = (word ^ (word >> 27)) &* 0x94D0_49BB_1331_11EB
        word ^= word >> 31
        for shift in stride(from: 0, to: 64, by: 8) where index < count {
            bytes[index] = UInt8(truncatingIfNeeded: word >> UInt64(shift))
            index += 1
        }
    }
    return bytes
}

/// Runs `body` expecting a VaultError with `code`; returns it for further checks.
@discardableResult
func expectBlockError(_ code: VaultError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                      _ body: () throws -> Void) -> VaultError? {
    do {
        try body()
        Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
        return nil
    } catch let error as VaultError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a VaultError \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
