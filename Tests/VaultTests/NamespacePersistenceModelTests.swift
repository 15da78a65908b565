import VaultCrypto
import Foundation
import Testing
@testable import Vault
import SeededRandom

/// The mount model end to end, minus encryption and storage: what the journal layer will do
/// with our bytes (records in batches, snapshots as checkpoints) must rebuild the live tree.
@Suite struct NamespacePersistenceModelTests {
    static let operationCount = 2_500

    /// Seeds: a few fixed ones for reproducible CI, plus one fresh per run (printed on failure).
    static let seeds: [UInt64] = {
        var seeds: [UInt64] = [1, 0xC0DEC, 20_251_121]
        if let fixed = ProcessInfo.processInfo.environment["SHARDVAULT_CODEC_SEED"].flatMap({ UInt64($0) }) {
            seeds.append(fixed)
        } else {
            seeds.append(UInt64.random(in: 0 ... .max))
        }
        return seeds
    }()

    @Test(arguments: seeds)
    func replayingDecodedRecordsRebuildsTheTree(seed: UInt64) throws {
        var workload = RandomNamespaceWorkload(seed: seed)
        for _ in 0 ..< Self.operationCount { workload.step() }
        let records = workload.records
        #expect(records.count > Self.operationCount / 3, "seed \(seed): too few operations succeeded to mean much")

        // Cut the records into batches of random size, the way group commit would.
        var random = SplitMix64(seed: seed ^ 0xBA7C4)
        let replayed = workload.freshNamespace()
        var index = 0
        while index < records.count {
            let end = min(records.count, index + Int.random(in: 1 ... 64, using: &random))
            let batch = Array(records[index ..< end])
            let decoded = try NamespaceRecord.decodeRecords(NamespaceRecord.encodeRecords(batch))
            try #require(decoded == batch, "seed \(seed): batch at record \(index) did not round-trip")
            for record in decoded { replayed.apply(record) }
            index = end
        }
        let difference = replayed.difference(from: workload.tree)
        #expect(difference == nil, "seed \(seed) (SHARDVAULT_CODEC_SEED=\(seed)): \(difference ?? "")")
    }

    @Test(arguments: seeds)
    func snapshotsAtRandomPointsRestoreAndReplay(seed: UInt64) throws {
        var workload = RandomNamespaceWorkload(seed: seed)
        var random = SplitMix64(seed: seed ^ 0x5AA9)
        // Each checkpoint: its bytes and how many records it already contains.
        var checkpoints: [(bytes: [UInt8], recordCount: Int)] = []
        for step in 0 ..< Self.operationCount {
            workload.step()
            guard Int.random(in: 0 ..< 250, using: &random) == 0 || step == Self.operationCount / 2 else { continue }
            let bytes = workload.tree.snapshot()
            let restored = try Namespace(snapshot: bytes)
            let difference = restored.difference(from: workload.tree)
            try #require(difference == nil, "seed \(seed) step \(step): \(difference ?? "")")
            #expect(try restored.allListings() == workload.tree.allListings(), "seed \(seed) step \(step)")
            #expect(restored.snapshot() == bytes, "seed \(seed) step \(step): snapshot not deterministic")
            checkpoints.append((bytes, workload.records.count))
        }
        // Mount = newest (or any) checkpoint + replay of the records after it.
        for checkpoint in checkpoints {
            let mounted = try Namespace(snapshot: checkpoint.bytes)
            let tail = Array(workload.records[checkpoint.recordCount...])
            for record in try NamespaceRecord.decodeRecords(NamespaceRecord.encodeRecords(tail)) { mounted.apply(record) }
            let difference = mounted.difference(from: workload.tree)
            #expect(difference == nil, "seed \(seed), checkpoint after \(checkpoint.recordCount) records: \(difference ?? "")")
        }
    }

    @Test(arguments: seeds.prefix(1))
    func truncatedWorkloadSnapshotsAndBatchesThrow(seed: UInt64) {
        var workload = RandomNamespaceWorkload(seed: seed)
        for _ in 0 ..< 150 { workload.step() }
        let snapshot = workload.tree.snapshot()
        for length in 0 ..< snapshot.count {
            expectDecodingError { _ = try Namespace(snapshot: Array(snapshot[..<length])) }
        }
        let batch = NamespaceRecord.encodeRecords(workload.records)
        for length in 0 ..< batch.count {
            expectDecodingError { _ = try NamespaceRecord.decodeRecords(Array(batch[..<length])) }
        }
    }

    /// Found while writing the codec: `unlink` of a file that is still open keeps the inode
    /// alive in the live tree (`isOpen`), but the record does not say so. A replay (where no
    /// handle is open) drops the inode at once — so the live tree and the replayed one differ,
    /// and any later record for that inode (a write-back `setContent` of the open handle, an
    /// fchmod, a `release`) finds no node: `apply` force-unwraps `nodes[inode]!` and traps.
    /// Replay has no open handles: an inode unlinked while open disappears at its unlink, and
    /// the records that later touch it (a flushed write, its release) are skipped, not fatal.
    /// After live remounts the orphan is dropped as well, so both paths end in the same tree.
    @Test func replayOfAnUnlinkWhileOpenDropsTheInodeAndSkipsItsLaterRecords() throws {
        let live = Namespace(rootID: DirectoryID(high: 9, low: 9), time: 1)
        let (file, create) = try live.create(in: Namespace.rootInode, name: n("f"), kind: .regular,
                                             permissions: 0o644, uid: 0, gid: 0, time: 2)
        live.isOpen = { $0 == file }
        let (unlink, _) = try live.unlink(Namespace.rootInode, name: n("f"), time: 3)
        let write = try live.setContent(file, .inline([1, 2, 3]), size: 3, time: 4).0
        live.isOpen = { _ in false }
        let (release, _) = try #require(live.release(file))

        let replayed = Namespace(rootID: DirectoryID(high: 9, low: 9), time: 1)
        for record in try NamespaceRecord.decodeRecords(NamespaceRecord.encodeRecords([create, unlink, write, release])) {
            replayed.apply(record)
        }
        #expect(replayed.inodeCount == 1 && live.inodeCount == 1)
        #expect(replayed.isEquivalent(to: live))
    }
}
