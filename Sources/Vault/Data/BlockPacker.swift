import Buffers
import Foundation
import VolumePool

/// Gathers the sealed chunks of small blocks into shared pool objects, **packs**
/// (docs/FORMAT-blocks.md, "Packed blocks").
///
/// Why: a block of its own is k+m shard files, and for a small file the filesystem work of
/// creating, writing and later deleting those files costs far more than its bytes. Untarring
/// the kernel tree spent most of the daemon's CPU there; a pack makes that one set of shard
/// files per few hundred small blocks (up to 2 MiB of them).
///
/// Members are **compact**: each block's sealed chunks follow the previous block's at the next
/// byte, its last chunk sealed at its own length, so a 5 KiB file takes 5 KiB and 28 bytes of
/// the pack, not a padded 32 KiB chunk. The pack as a whole is padded with random bytes to
/// whole sealed chunks when written: its object length reveals no more than a block of its own
/// would (a lone small file's exact size stays hidden), and random padding cannot be told from
/// ciphertext.
///
/// Lifecycle of a pack:
/// - **open**: blocks are sealed into its buffer (each into bytes reserved under the lock) until
///   the next would not fit;
/// - **full**: the next block did not fit; the writer that found it full writes it at once
///   (`writeFullPacks`), or the one that finishes sealing the last member into it, and
///   `flush` writes the open one too;
/// - **written**: it is a pool object; only its count of live members is kept.
/// Until written, a pack's bytes serve reads of its members (`withUnwrittenBytes`). A write
/// that fails keeps the pack in memory, so the next flush tries again and no byte is lost.
///
/// A pack is deleted when its last live member is released (after the metadata that dropped
/// the member is durable); a pack whose members all died before it was written is never
/// written. A pack with some live members keeps all its bytes: packs are not compacted.
final class BlockPacker: @unchecked Sendable {
    /// Plaintext bytes of the largest block that is packed (eight chunks). Not only small
    /// files: in the kernel subset, the 739 files of 64–256 KiB each took an object of their
    /// own (six shard files) when only blocks up to 64 KiB were packed, and creating those
    /// files was half the seal workers' CPU in an untar (docs/BENCHMARKS.md).
    static let largestPackedBlock = 256 * 1024
    /// Bytes of a pack's buffer (one 2 MiB pool buffer).
    static let packCapacity = 2 << 20

    /// Writes a pack's bytes as a pool object (not durable until the pool is synced), kept in
    /// the volumes' page cache or not.
    typealias PutPack = @Sendable (ObjectID, UnsafeRawBufferPointer, ShardCaching) throws(VaultError) -> Void
    /// Removes a pack's pool object.
    typealias DeletePack = @Sendable (ObjectID) -> Void
    /// Fills a pack's padding with bytes that cannot be told from ciphertext.
    typealias FillPadding = @Sendable (UnsafeMutableRawBufferPointer) throws(VaultError) -> Void

    let sealedChunkSize: Int
    /// Bytes of members a pack holds at most: whole sealed chunks, so the padded pack fits its buffer.
    let byteCapacity: Int
    private let put: PutPack
    private let delete: DeletePack
    private let fillPadding: FillPadding
    private let lock = NSCondition()
    private var open: UnwrittenPack?
    /// Packs that filled up, not yet taken by a writer.
    private var full: [UnwrittenPack] = []
    /// Packs whose write failed, for the next `flush` to try again.
    private var failed: [UnwrittenPack] = []
    /// Every pack not in the pool yet, whatever its state, by id (reads are served from it).
    private var unwritten: [ObjectID: UnwrittenPack] = [:]
    /// Packs taken by a writer and not finished.
    private var writing = 0
    /// Blocks referencing each pack, written or not, that nobody has released yet.
    private var liveMembers: [ObjectID: Int] = [:]

    init(sealedChunkSize: Int, put: @escaping PutPack, delete: @escaping DeletePack, fillPadding: @escaping FillPadding) {
        self.sealedChunkSize = sealedChunkSize
        self.put = put
        self.delete = delete
        self.fillPadding = fillPadding
        self.byteCapacity = Self.packCapacity / sealedChunkSize * sealedChunkSize
        precondition(byteCapacity >= Self.largestPackedBlock / BlockLayout.chunkSize * sealedChunkSize,
                     "a pack must hold the largest packed block")
    }

    /// Reserves the next `byteCount` bytes of the open pack, has `seal` fill them with a
    /// block's sealed chunks, and counts the block as a live member. When the open pack has no
    /// room, it is set aside as full (for `writeFullPacks`) and a new one is opened. The pack
    /// skips the page cache only if every member's writer asked to (`caching`).
    ///
    /// The sealing runs outside the lock, in the reserved bytes: a member may be 256 KiB, and
    /// writers sealing into one pack should not wait for each other. A pack is not written
    /// while a member is being sealed into it; the writer that finishes the last one writes
    /// it through `writeFullPacks`, as any writer does after appending.
    func append(byteCount: Int, caching: ShardCaching,
                seal: (UnsafeMutableRawBufferPointer) throws(VaultError) -> Void) throws(VaultError) -> PackLocation {
        precondition(byteCount > 0 && byteCount <= byteCapacity, "a packed block takes 1…\(byteCapacity) bytes")
        lock.lock()
        if let current = open, current.usedBytes + byteCount > byteCapacity {
            full.append(current)
            open = nil
        }
        let pack = open ?? startPack()
        let start = pack.usedBytes
        pack.usedBytes += byteCount
        pack.membersBeingSealed += 1
        if caching == .keep { pack.caching = .keep }
        liveMembers[pack.id, default: 0] += 1
        lock.unlock()

        let region = UnsafeMutableRawBufferPointer(rebasing: pack.bytes[start ..< start + byteCount])
        let sealed = Result { () throws(VaultError) in try seal(region) }
        if case .failure = sealed {
            // What a failed seal left there (plaintext, maybe) must not reach a volume: the
            // region becomes padding, which cannot be told from ciphertext.
            try? fillPadding(region)
        }
        lock.lock()
        pack.membersBeingSealed -= 1
        if case .failure = sealed { _ = dropMember(of: pack.id) }  // never written while sealing: nothing to delete
        lock.broadcast()
        lock.unlock()
        try sealed.get()
        return PackLocation(object: pack.id, placement: .compact(byteOffset: UInt32(start)))
    }

    /// Writes the packs that filled up (called by writers right after `append`, so a full
    /// pack does not wait for the next commit). A failed write is kept for `flush`.
    func writeFullPacks() throws(VaultError) {
        try write(take(includingFailed: false))
    }

    /// Writes the open pack, the full ones and those that failed before, and waits for the
    /// writes other threads run: afterwards every block appended before the call is in the
    /// pool (not yet flushed to stable storage). Throws the first failure; failed packs are
    /// kept for the next flush.
    func flush() throws(VaultError) {
        lock.lock()
        if let current = open, current.usedBytes > 0 {
            full.append(current)
            open = nil
        }
        while full.contains(where: { $0.membersBeingSealed > 0 }) { lock.wait() }
        lock.unlock()
        let written = Result { () throws(VaultError) in try write(take(includingFailed: true)) }
        lock.lock()
        while writing > 0 { lock.wait() }
        // A pack another thread failed to write meanwhile: this flush cannot promise it.
        let unwrittenLeft = !failed.isEmpty
        lock.unlock()
        try written.get()
        if unwrittenLeft { throw VaultError(.io, "a pack of small blocks could not be written to the volumes; it is kept for the next attempt") }
    }

    /// Runs `body` with the sealed bytes `range` of `pack` (relative to the pack's start) if the
    /// pack is not in the pool yet; returns false, without calling `body`, once it is.
    func withUnwrittenBytes(of pack: ObjectID, range: Range<Int>,
                            _ body: (UnsafeRawBufferPointer) throws(VaultError) -> Void) throws(VaultError) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let unwrittenPack = unwritten[pack] else { return false }
        guard range.upperBound <= unwrittenPack.usedBytes else {
            throw VaultError(.io, "pack \(pack.hex) holds \(unwrittenPack.usedBytes) bytes; bytes up to \(range.upperBound) asked")
        }
        try body(UnsafeRawBufferPointer(rebasing: unwrittenPack.bytes[range]))
        return true
    }

    /// Counts a member of a pack already in the pool (the namespace's references at mount).
    func adopt(_ pack: ObjectID) {
        lock.lock()
        defer { lock.unlock() }
        liveMembers[pack, default: 0] += 1
    }

    /// A member of `pack` is gone for good (no durable metadata references it). The pack
    /// object is deleted with its last member; an unwritten pack left without members is
    /// never written (if being written meanwhile, it is deleted once written).
    func release(_ pack: ObjectID) {
        lock.lock()
        let deleteNow = dropMember(of: pack)
        lock.unlock()
        if deleteNow { delete(pack) }
    }

    /// Counts one member of `pack` less (under the lock); true when the pack is in the pool
    /// and now has no member, so the caller deletes it.
    private func dropMember(of pack: ObjectID) -> Bool {
        let live = liveMembers[pack] ?? 0
        liveMembers[pack] = live > 1 ? live - 1 : nil
        var deleteNow = false
        if live == 1 {
            if unwritten[pack] == nil {
                deleteNow = true
            } else {
                // Full or failed: dropped here. Open: dropped when taken. Being written:
                // deleted when written.
                let waiting = full.count + failed.count
                full.removeAll { $0.id == pack }
                failed.removeAll { $0.id == pack }
                if full.count + failed.count < waiting { unwritten[pack] = nil }
            }
        }
        return deleteNow
    }

    /// Packs not in the pool yet (tests and statistics).
    var unwrittenCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return unwritten.count
    }

    // MARK: - Helpers

    private func startPack() -> UnwrittenPack {
        let pack = UnwrittenPack(id: .random(), capacity: Self.packCapacity, sealedChunkSize: sealedChunkSize)
        open = pack
        unwritten[pack.id] = pack
        return pack
    }

    /// Takes the full packs (and the failed ones) for writing; a pack none of whose members
    /// is alive any more is dropped instead (written and removed within one commit, like a
    /// build's temporary files).
    private func take(includingFailed: Bool) -> [UnwrittenPack] {
        lock.lock()
        defer { lock.unlock() }
        // A pack with a member still being sealed waits for the writer sealing it.
        var taken = full.filter { $0.membersBeingSealed == 0 }
        full.removeAll { $0.membersBeingSealed == 0 }
        if includingFailed {
            taken += failed
            failed.removeAll()
        }
        taken.removeAll { pack in
            guard liveMembers[pack.id] == nil else { return false }
            unwritten[pack.id] = nil
            return true
        }
        writing += taken.count
        return taken
    }

    /// Writes taken packs. A written pack leaves memory, and is deleted at once if its last
    /// member was released meanwhile; a failed one is kept for the next flush.
    private func write(_ packs: [UnwrittenPack]) throws(VaultError) {
        var firstFailure: VaultError?
        for pack in packs {
            let result = Result { () throws(VaultError) in
                try put(pack.id, try pack.paddedToWholeChunks(fillPadding), pack.caching)
            }
            lock.lock()
            writing -= 1
            var orphaned = false
            switch result {
            case .success:
                unwritten[pack.id] = nil
                orphaned = liveMembers[pack.id] == nil
            case let .failure(error):
                failed.append(pack)
                firstFailure = firstFailure ?? error
            }
            lock.broadcast()
            lock.unlock()
            if orphaned { delete(pack.id) }
        }
        if let firstFailure { throw firstFailure }
    }
}

/// A pack still in memory: its members' sealed chunks, appended in order.
final class UnwrittenPack: @unchecked Sendable {
    let id: ObjectID
    private let buffer: PooledBuffer
    let bytes: UnsafeMutableRawBufferPointer
    private let sealedChunkSize: Int
    /// Bytes reserved for members so far (guarded by the packer's lock).
    var usedBytes = 0
    /// `.keep` once any member's writer wants its shards cached (guarded by the packer's lock).
    var caching = ShardCaching.bypass
    /// Members whose bytes are reserved but not yet sealed (guarded by the packer's lock).
    var membersBeingSealed = 0

    init(id: ObjectID, capacity: Int, sealedChunkSize: Int) {
        self.id = id
        self.sealedChunkSize = sealedChunkSize
        buffer = SizeClassPool.shared.take(capacity: capacity)
        bytes = UnsafeMutableRawBufferPointer(start: buffer.baseAddress, count: capacity)
    }

    /// The members and, after them, `fill`'s padding up to a whole number of sealed chunks:
    /// the bytes the pool stores. Called only once no more can be appended (full packs);
    /// readers of members meanwhile never look past `usedBytes`.
    func paddedToWholeChunks(_ fill: BlockPacker.FillPadding) throws(VaultError) -> UnsafeRawBufferPointer {
        let padded = (usedBytes + sealedChunkSize - 1) / sealedChunkSize * sealedChunkSize
        try fill(UnsafeMutableRawBufferPointer(rebasing: bytes[usedBytes ..< padded]))
        return UnsafeRawBufferPointer(rebasing: bytes[0 ..< padded])
    }
}
