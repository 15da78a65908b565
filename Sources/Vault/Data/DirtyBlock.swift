import Buffers

/// A block being modified in memory. Touched under its file's lock, or — once handed to a
/// background seal — only read, by that seal and by readers holding the lock.
///
/// Two things are tracked apart. `loaded`: the chunks whose bytes in the buffer are current
/// (written, or read from the stored block because a write covered them only in part) —
/// what reads and sealing need. `written`: the bytes writes have covered — what says the
/// block is complete. They differ for a chunk a write covers in part: it is loaded at once,
/// but complete only when later writes cover the rest. Judging completeness by `loaded`
/// sealed a streamed block as soon as a write ended inside its last chunk (an S3 body
/// arrives in reads of any length); the rest of that chunk then started a second dirty
/// block that held 4 MiB until the file was closed and was sealed again after reading the
/// first back — a tenth of a 1 GiB PUT's blocks, and 100 MiB of the daemon's memory.
final class DirtyBlock: @unchecked Sendable {
    let buffer: PooledBuffer
    private var loaded = ChunkSet()
    private var written = WrittenRanges()

    init() {
        buffer = SizeClassPool.shared.take(capacity: OpenFile.blockSize)
    }

    func isLoaded(_ chunk: Int) -> Bool { loaded.contains(chunk) }
    func markLoaded(_ chunk: Int) { loaded.insert(chunk) }
    /// Records that a write covered `range` of the block (the caller loads its chunks).
    func markWritten(_ range: Range<Int>) { written.insert(range) }
    /// Writes have covered every byte: sealing the block needs nothing from the stored one,
    /// and a sequential writer has moved past it.
    var isComplete: Bool { written.covers(0 ..< OpenFile.blockSize) }

    var bytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: buffer.baseAddress, count: OpenFile.blockSize)
    }
}

/// A set of chunk indices within a block (128 chunks of 32 KiB in 4 MiB).
struct ChunkSet {
    private var words: (UInt64, UInt64) = (0, 0)

    func contains(_ chunk: Int) -> Bool {
        chunk < 64 ? words.0 & (1 << UInt64(chunk)) != 0 : words.1 & (1 << UInt64(chunk - 64)) != 0
    }

    mutating func insert(_ chunk: Int) {
        if chunk < 64 { words.0 |= 1 << UInt64(chunk) } else { words.1 |= 1 << UInt64(chunk - 64) }
    }
}

/// Byte ranges, kept sorted and merged (touching ranges become one). A sequential writer
/// keeps one range; the kernel's out-of-order writeback a few, which merge as gaps fill.
struct WrittenRanges {
    private(set) var ranges: [Range<Int>] = []

    mutating func insert(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        var merged = range
        // The first range that ends at or after `range` starts: everything before it is
        // disjoint and not touching; from it on, ranges merge while they start within reach.
        let first = ranges.firstIndex { $0.upperBound >= range.lowerBound } ?? ranges.endIndex
        var past = first
        while past < ranges.endIndex, ranges[past].lowerBound <= merged.upperBound {
            merged = min(merged.lowerBound, ranges[past].lowerBound) ..< max(merged.upperBound, ranges[past].upperBound)
            past += 1
        }
        ranges.replaceSubrange(first ..< past, with: CollectionOfOne(merged))
    }

    func covers(_ whole: Range<Int>) -> Bool {
        ranges.contains { $0.lowerBound <= whole.lowerBound && $0.upperBound >= whole.upperBound }
    }
}
