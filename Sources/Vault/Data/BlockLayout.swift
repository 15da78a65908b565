import VaultCrypto
import VolumePool

/// Where each sealed chunk of a block sits inside its pool object (format: docs/FORMAT-blocks.md,
/// "Blocks (version 1)").
///
/// A block of `length` plaintext bytes is `chunkCount` chunks of `chunkSize` plaintext; the
/// last one is zero-padded to a full chunk before sealing, so every sealed chunk has the same
/// size and chunk i starts at `i × sealedChunkSize`. The padding is why the object length
/// reveals only the chunk count, never the exact plaintext length, which lives in the
/// (encrypted) metadata as `BlockReference.length`.
struct BlockLayout: Equatable, Sendable {
    /// Plaintext bytes per chunk (32 KiB).
    static let chunkSize = ContentCipher.chunkSize

    /// Plaintext bytes in the block.
    let length: Int
    /// Bytes one sealed chunk occupies: a full chunk plus the AEAD's nonce and tag.
    let sealedChunkSize: Int

    init(length: Int, cipherOverhead: Int) {
        precondition(length >= 0 && cipherOverhead >= 0, "negative block length or overhead")
        self.length = length
        self.sealedChunkSize = Self.chunkSize + cipherOverhead
    }

    /// Chunks in the block (0 for an empty block).
    var chunkCount: Int { (length + Self.chunkSize - 1) / Self.chunkSize }

    /// Length of the pool object holding the block.
    var storedLength: Int { chunkCount * sealedChunkSize }

    /// Plaintext bytes of chunk `index` that belong to the block (the rest is padding).
    func plaintextCount(ofChunk index: Int) -> Int {
        min(Self.chunkSize, length - index * Self.chunkSize)
    }

    /// Plaintext range of the block that chunk `index` covers.
    func plaintextRange(ofChunk index: Int) -> Range<Int> {
        let start = index * Self.chunkSize
        return start ..< start + plaintextCount(ofChunk: index)
    }

    /// Chunks a plaintext range touches; empty for an empty range.
    func chunks(covering range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else { return 0 ..< 0 }
        return range.lowerBound / Self.chunkSize ..< (range.upperBound - 1) / Self.chunkSize + 1
    }

    /// Byte range of the pool object holding the sealed chunks `chunks`.
    func storedRange(ofChunks chunks: Range<Int>) -> Range<Int> {
        chunks.lowerBound * sealedChunkSize ..< chunks.upperBound * sealedChunkSize
    }
}

extension ObjectID {
    /// The same 128 bits as the crypto layer's block id, which chunk associated data binds to.
    var blockID: BlockID { BlockID(high: high, low: low) }
}
