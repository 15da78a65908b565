import Buffers
import Foundation

/// The write-back state of one open regular file, shared by all its handles.
///
/// Writes land in per-block plaintext buffers; only the 32 KiB chunks a write covers
/// partially are first read from the stored block (read-modify-write touches no more). A
/// block is sealed — encrypted, erasure-coded, written — when a write reaches its end, and
/// every dirty block on flush. Reads see buffered bytes first, then stored blocks.
final class OpenFile: @unchecked Sendable {
    static let blockSize = BlockStore.blockSize
    static let chunkSize = 32 * 1024
    static let chunksPerBlock = blockSize / chunkSize

    let inode: InodeNumber
    /// Serialises this file's data operations (taken before the vault's namespace lock).
    let lock = NSLock()
    var handleCount = 0
    /// Logical size, including writes not yet flushed.
    var size: UInt64
    /// The content as last recorded in the namespace.
    var content: FileContent
    var dirtyBlocks: [Int: DirtyBlock] = [:]

    init(inode: InodeNumber, size: UInt64, content: FileContent) {
        self.inode = inode
        self.size = size
        self.content = content
    }

    var isDirty: Bool { !dirtyBlocks.isEmpty }

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

/// A block being modified in memory.
final class DirtyBlock {
    let buffer: PooledBuffer
    /// Chunks whose bytes in `buffer` are current (written, or loaded from the stored block).
    private(set) var loaded = ChunkSet()

    init() {
        buffer = SizeClassPool.shared.take(capacity: OpenFile.blockSize)
    }

    func isLoaded(_ chunk: Int) -> Bool { loaded.contains(chunk) }
    func markLoaded(_ chunk: Int) { loaded.insert(chunk) }

    var bytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: buffer.baseAddress, count: OpenFile.blockSize)
    }
}

/// A set of chunk indices within a block (128 chunks of 32 KiB in 4 MiB).
struct ChunkSet: Equatable {
    private var words: (UInt64, UInt64) = (0, 0)

    func contains(_ chunk: Int) -> Bool {
        chunk < 64 ? words.0 & (1 << UInt64(chunk)) != 0 : words.1 & (1 << UInt64(chunk - 64)) != 0
    }

    mutating func insert(_ chunk: Int) {
        if chunk < 64 { words.0 |= 1 << UInt64(chunk) } else { words.1 |= 1 << UInt64(chunk - 64) }
    }

    static func == (a: ChunkSet, b: ChunkSet) -> Bool { a.words == b.words }
}
