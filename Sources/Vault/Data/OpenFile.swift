import Foundation
import Synchronization
import VolumePool

/// The write-back state of one open regular file, shared by all its handles.
///
/// Writes land in per-block plaintext buffers; only the 32 KiB chunks a write covers
/// partially are first read from the stored block (read-modify-write touches no more). A
/// block is sealed — encrypted, erasure-coded, written — once writes have covered all of it
/// (or, when the file holds too many dirty blocks, the lowest-numbered first), and every
/// dirty block on flush. Reads see buffered bytes first, then stored blocks.
final class OpenFile: @unchecked Sendable {
    static let blockSize = BlockStore.blockSize
    static let chunkSize = 32 * 1024
    static let chunksPerBlock = blockSize / chunkSize

    let inode: InodeNumber
    /// Serialises this file's data operations (taken before the vault's namespace lock); its
    /// condition signals the end of a background seal.
    let lock = NSCondition()
    /// Most full blocks being sealed in the background at once; a writer past it waits.
    static let maximumSealsInFlight = 3
    /// Dirty blocks a file may hold; past it the lowest-numbered one is sealed although parts
    /// of it were never written (they are then read from the stored block).
    static let maximumIncompleteDirtyBlocks = 32
    var handleCount = 0
    /// Logical size, including writes not yet flushed; changed under `lock`.
    var size: UInt64 {
        get { publishedSize.load(ordering: .relaxed) }
        set { publishedSize.store(newValue, ordering: .releasing) }
    }
    /// Where `size` lives, so that getattr and friends read it without the lock: a read of a
    /// cold block holds the lock while it waits for the disk, and a stat of the file must not
    /// wait with it (nor hold up, on a FUSE ring owner, every other request of its CPU).
    let publishedSize: Atomic<UInt64>
    /// The content as last recorded in the namespace.
    var content: FileContent
    var dirtyBlocks: [Int: DirtyBlock] = [:]
    /// Full blocks handed to a background seal; reads are served from them meanwhile.
    var sealing: [Int: DirtyBlock] = [:]
    /// The first failure of a background seal, reported by the next flush or fsync.
    var writebackError: VaultError?
    /// A write-back after the last close is queued and has not started yet.
    var writeBackScheduled = false
    /// An mtime set explicitly (utimensat, the kernel's own times) since the last write: the
    /// next flush records the content, which stamps the current time, then sets this again.
    var pendingMtime: Timestamp?
    /// How far reads of this file may fetch ahead (guarded by `lock`).
    var readahead = SequentialReadahead()
    /// Whether the volumes keep this file's newly written shards cached: set by the latest
    /// `Vault.open` (guarded by `lock`).
    var shardCaching = ShardCaching.keep
    /// The highest block index a background prefetch was started for (guarded by `lock`).
    var prefetchedThrough = -1
    /// When the oldest write not yet flushed and the latest write arrived (`MonotonicClock`;
    /// 0: everything written is flushed), for the durability horizon (guarded by `lock`).
    var unflushedSince: UInt64 = 0
    var lastWriteAt: UInt64 = 0

    /// Waits (releasing the lock) until no background seal of `index` — or of any block
    /// when nil — is running.
    func waitForSeals(of index: Int? = nil) {
        while index.map({ sealing[$0] != nil }) ?? !sealing.isEmpty { lock.wait() }
    }

    init(inode: InodeNumber, size: UInt64, content: FileContent) {
        self.inode = inode
        publishedSize = Atomic(size)
        self.content = content
    }

    var isDirty: Bool { !dirtyBlocks.isEmpty || !sealing.isEmpty }

    /// Block indices overlapping `range` of the file, with the range inside each block.
    static func blocks(covering range: Range<UInt64>) -> [(index: Int, local: Range<Int>)] {
        guard !range.isEmpty else { return [] }
        let first = Int(range.lowerBound / UInt64(blockSize))
        let last = Int((range.upperBound - 1) / UInt64(blockSize))
        return (first ... last).map { index in
            let start = UInt64(index) * UInt64(blockSize)
            let lower = Int(max(range.lowerBound, start) - start)
            let upper = Int(min(range.upperBound, start + UInt64(blockSize)) - start)
            return (index, lower ..< upper)
        }
    }
}
