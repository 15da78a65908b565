import VaultCrypto
import VolumePool

/// Where each sealed chunk of a block sits, counted from the block's first byte in its pool
/// object (format: docs/FORMAT-blocks.md).
///
/// A block of `length` plaintext bytes is `chunkCount` chunks of `chunkSize` plaintext. Every
/// chunk but the last is full, so chunk i starts at `i × sealedChunkSize`. The last one is
/// either zero-padded to a full chunk before sealing (a block of its own, whose object length
/// then reveals only the chunk count; the exact length lives in the encrypted metadata as
/// `BlockReference.length`) or, with `compactTail`, sealed at its own length (a compact
/// member of a pack: the pack as a whole is padded instead, see `BlockPacker`).
struct BlockLayout: Equatable, Sendable {
    /// Plaintext bytes per chunk (32 KiB).
    static let chunkSize = ContentCipher.chunkSize

    /// Plaintext bytes in the block.
    let length: Int
    /// Bytes one sealed full chunk occupies: the chunk plus the AEAD's nonce and tag.
    let sealedChunkSize: Int
    /// Whether the last chunk is sealed at its own length instead of padded to a full chunk.
    let compactTail: Bool

    init(length: Int, cipherOverhead: Int, compactTail: Bool = false) {
        precondition(length >= 0 && cipherOverhead >= 0, "negative block length or overhead")
        self.length = length
        self.sealedChunkSize = Self.chunkSize + cipherOverhead
        self.compactTail = compactTail
    }

    /// Chunks in the block (0 for an empty block).
    var chunkCount: Int { (length + Self.chunkSize - 1) / Self.chunkSize }

    /// Bytes the block's sealed chunks occupy in their pool object.
    var storedLength: Int {
        chunkCount == 0 ? 0 : (chunkCount - 1) * sealedChunkSize + sealedSize(ofChunk: chunkCount - 1)
    }

    /// Plaintext bytes of chunk `index` that belong to the block (the rest is padding).
    func plaintextCount(ofChunk index: Int) -> Int {
        min(Self.chunkSize, length - index * Self.chunkSize)
    }

    /// Plaintext bytes sealed in chunk `index`: its own, or a full chunk's once padded.
    func sealedPlaintextCount(ofChunk index: Int) -> Int {
        compactTail ? plaintextCount(ofChunk: index) : Self.chunkSize
    }

    /// Bytes sealed chunk `index` occupies.
    func sealedSize(ofChunk index: Int) -> Int {
        sealedPlaintextCount(ofChunk: index) + (sealedChunkSize - Self.chunkSize)
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

    /// Byte range, from the block's first byte, of the sealed chunks `chunks`.
    func storedRange(ofChunks chunks: Range<Int>) -> Range<Int> {
        let end = chunks.isEmpty || chunks.upperBound < chunkCount
            ? chunks.upperBound * sealedChunkSize : storedLength
        return chunks.lowerBound * sealedChunkSize ..< end
    }
}

extension ObjectID {
    /// The same 128 bits as the crypto layer's block id, which chunk associated data binds to.
    var blockID: BlockID { BlockID(high: high, low: low) }
}
