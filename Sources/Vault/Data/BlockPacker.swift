import Buffers
import Foundation
import VolumePool

/// Gathers the sealed chunks of small blocks into shared pool objects, **packs**
/// (docs/FORMAT-blocks.md, "Packed blocks").
///
/// Why: a block of its own is k+m shard files, and for a small file the filesystem work of
/// creating, writing and later deleting those files costs far more than its bytes. Untarring
/// the kernel tree spent most of the daemon's CPU there; a pack makes that one set of shard
/// files per ~60 small blocks.
///
/// Lifecycle of a pack:
/// - **open**: blocks are sealed into its buffer (under the lock) until the next would not fit;
/// - **queued**: full, or taken by `flush`; the thread that took it writes it to the pool;
/// - **written**: it is a pool object; only its count of live members is kept.
/// Until written, a pack's bytes serve reads of its members (`withUnwrittenBytes`). A write
/// that fails leaves the pack queued, so the next flush tries again and no byte is lost.
///
/// A pack is deleted when its last live member is released (after the metadata that dropped
/// the member is durable); a pack whose members all died before it was written is never
/// written. A pack with some live members keeps all its bytes: packs are not compacted.
final class BlockPacker: @unchecked Sendable {
    /// Plaintext bytes of the largest block that is packed (two chunks).
    static let largestPackedBlock = 64 * 1024
    /// Bytes of sealed chunks a pack holds at most (one 2 MiB pool buffer).
    static let packCapacity = 2 << 20

    /// Writes a pack's bytes as a pool object (not durable until the pool is synced).
    typealias PutPack = @Sendable (ObjectID, UnsafeRawBufferPointer) throws(VaultError) -> Void
    /// Removes a pack's pool object.
    typealias DeletePack = @Sendable (ObjectID) -> Void

    let sealedChunkSize: Int
    let chunksPerPack: Int
    private let put: PutPack
    private let delete: DeletePack
    private let lock = NSCondition()
    private var open: UnwrittenPack?
    private var queued: [UnwrittenPack] = []
    private var unwritten: [ObjectID: UnwrittenPack] = [:]
    private var writing = 0
    /// Blocks referencing each pack, written or not, that nobody has released yet.
    private var liveMembers: [ObjectID: Int] = [:]

    init(sealedChunkSize: Int, put: @escaping PutPack, delete: @escaping DeletePack) {
        self.sealedChunkSize = sealedChunkSize
        self.put = put
        self.delete = delete
        self.chunksPerPack = Self.packCapacity / sealedChunkSize
        precondition(chunksPerPack * BlockLayout.chunkSize >= Self.largestPackedBlock, "a pack must hold the largest packed block")
    }

    /// Reserves `chunkCount` consecutive chunks in the open pack, has `seal` fill them, and
    /// counts the block as a live member. Returns where the block lives and, when the previous
    /// open pack was full, that pack: the caller writes it (`write`) without holding anything.
    func append(chunkCount: Int,
                seal: (UnsafeMutableRawBufferPointer) throws(VaultError) -> Void) throws(VaultError) -> (PackLocation, UnwrittenPack?) {
        precondition(chunkCount > 0 && chunkCount <= chunksPerPack, "a packed block has 1…\(chunksPerPack) chunks")
        lock.lock()
        defer { lock.unlock() }
        var full: UnwrittenPack?
        if let current = open, current.chunkCount + chunkCount > chunksPerPack {
            full = current
            open = nil
        }
        let pack = open ?? startPack()
        let start = pack.chunkCount * sealedChunkSize
        try seal(UnsafeMutableRawBufferPointer(rebasing: pack.bytes[start ..< start + chunkCount * sealedChunkSize]))
        let location = PackLocation(object: pack.id, firstChunk: UInt32(pack.chunkCount))
        pack.chunkCount += chunkCount
        liveMembers[pack.id, default: 0] += 1
        if full != nil { writing += 1 }
        return (location, full)
    }

    /// Writes a pack `append` handed out; a failure queues it for the next `flush`.
    func write(_ pack: UnwrittenPack) throws(VaultError) {
        try finishWrite(pack, Result { () throws(VaultError) in try put(pack.id, pack.sealedBytes) })
    }

    /// Writes the open pack and every queued one, and waits for writes other threads run:
    /// afterwards every block appended before the call is in the pool (not yet flushed to
    /// stable storage). Throws the first failure; failed packs stay queued.
    func flush() throws(VaultError) {
        lock.lock()
        if let current = open, current.chunkCount > 0 {
            open = nil
            // Every member released already (written and removed in one commit interval,
            // like a build's temporary files): nothing references it, so it is never written.
            if liveMembers[current.id] == nil {
                unwritten[current.id] = nil
            } else {
                queued.append(current)
            }
        }
        let mine = queued
        queued.removeAll()
        writing += mine.count
        lock.unlock()
        var failure: VaultError?
        for pack in mine {
            do {
                try write(pack)
            } catch {
                failure = failure ?? error
            }
        }
        lock.lock()
        while writing > 0 { lock.wait() }
        // A pack another thread failed to write is still queued: this flush cannot promise it.
        let stillQueued = !queued.isEmpty
        lock.unlock()
        if let failure { throw failure }
        if stillQueued { throw VaultError(.io, "a pack of small blocks could not be written to the volumes; it will be retried") }
    }

    /// Runs `body` with the sealed bytes `range` of `pack` (relative to the pack's start) if the
    /// pack is not in the pool yet; returns false, without calling `body`, once it is.
    func withUnwrittenBytes(of pack: ObjectID, range: Range<Int>,
                            _ body: (UnsafeRawBufferPointer) throws(VaultError) -> Void) throws(VaultError) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let unwrittenPack = unwritten[pack] else { return false }
        guard range.upperBound <= unwrittenPack.chunkCount * sealedChunkSize else {
            throw VaultError(.io, "pack \(pack.hex) holds \(unwrittenPack.chunkCount) chunks; bytes up to \(range.upperBound) asked")
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
    /// dropped unwritten, or — if open or being written — deleted once written.
    func release(_ pack: ObjectID) {
        lock.lock()
        let live = liveMembers[pack] ?? 0
        liveMembers[pack] = live > 1 ? live - 1 : nil
        var deleteNow = false
        if live == 1 {
            if unwritten[pack] == nil {
                deleteNow = true
            } else if let index = queued.firstIndex(where: { $0.id == pack }) {
                queued.remove(at: index)
                unwritten[pack] = nil
            }
        }
        lock.unlock()
        if deleteNow { delete(pack) }
    }

    /// Packs not in the pool yet (tests and statistics).
    var unwrittenCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return unwritten.count
    }

    // MARK: - Helpers

    private func startPack() -> UnwrittenPack {
        let pack = UnwrittenPack(id: .random(), capacity: chunksPerPack * sealedChunkSize, sealedChunkSize: sealedChunkSize)
        open = pack
        unwritten[pack.id] = pack
        return pack
    }

    /// Ends a write: a written pack leaves memory, and is deleted at once if every member died
    /// meanwhile; a failed one is queued again. Rethrows the write's failure.
    private func finishWrite(_ pack: UnwrittenPack, _ result: Result<Void, VaultError>) throws(VaultError) {
        lock.lock()
        writing -= 1
        var orphaned = false
        switch result {
        case .success:
            unwritten[pack.id] = nil
            orphaned = liveMembers[pack.id] == nil
        case .failure:
            queued.append(pack)
        }
        lock.broadcast()
        lock.unlock()
        if orphaned { delete(pack.id) }
        try result.get()
    }
}

/// A pack still in memory: its sealed chunks, appended in order.
final class UnwrittenPack: @unchecked Sendable {
    let id: ObjectID
    private let buffer: PooledBuffer
    let bytes: UnsafeMutableRawBufferPointer
    private let sealedChunkSize: Int
    /// Chunks appended so far (guarded by the packer's lock).
    var chunkCount = 0

    init(id: ObjectID, capacity: Int, sealedChunkSize: Int) {
        self.id = id
        self.sealedChunkSize = sealedChunkSize
        buffer = SizeClassPool.shared.take(capacity: capacity)
        bytes = UnsafeMutableRawBufferPointer(start: buffer.baseAddress, count: capacity)
    }

    /// The chunks appended so far; read only once no more can be appended (queued packs).
    var sealedBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[0 ..< chunkCount * sealedChunkSize])
    }
}
