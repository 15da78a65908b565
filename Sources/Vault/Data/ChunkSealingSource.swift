import VaultCrypto
import VolumePool

/// Feeds `VolumePool.put` the sealed chunks of one block, sealing each only when the pool
/// asks for its bytes, so no sealed copy of the whole block ever exists.
///
/// A chunk is sealed straight into the pool's stripe buffer whenever it fits there whole;
/// only the chunk that straddles two stripes goes through `staging` (one per stripe, about
/// 3% of the bytes with 1 MiB stripes). The short last chunk is zero-padded in `paddedTail`
/// first, so every sealed chunk has the same size (see `BlockLayout`).
///
/// `staging` and `paddedTail` are chunk buffers owned by the caller for the duration of the
/// put; this value only borrows them.
struct ChunkSealingSource: ByteSource {
    private let plaintext: UnsafeRawBufferPointer
    private let layout: BlockLayout
    private let cipher: ContentCipher
    private let blockID: BlockID
    private let staging: UnsafeMutableRawBufferPointer
    private let paddedTail: UnsafeMutableRawBufferPointer

    private var nextChunk = 0
    /// Sealed bytes waiting in `staging`: `stagedStart ..< layout.sealedChunkSize`.
    private var stagedStart: Int
    /// The crypto failure behind a thrown read. The pool wraps source errors into a string;
    /// keeping the typed error here lets the store report it precisely.
    private(set) var failure: CryptoError?

    init(plaintext: UnsafeRawBufferPointer, layout: BlockLayout, cipher: ContentCipher, blockID: BlockID,
         staging: UnsafeMutableRawBufferPointer, paddedTail: UnsafeMutableRawBufferPointer) {
        precondition(staging.count >= layout.sealedChunkSize && paddedTail.count >= BlockLayout.chunkSize,
                     "chunk buffers too small for a sealed chunk")
        self.plaintext = plaintext
        self.layout = layout
        self.cipher = cipher
        self.blockID = blockID
        self.staging = staging
        self.paddedTail = paddedTail
        self.stagedStart = layout.sealedChunkSize
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let sealedSize = layout.sealedChunkSize
        var filled = 0
        while filled < buffer.count {
            if stagedStart < sealedSize {
                let count = min(sealedSize - stagedStart, buffer.count - filled)
                (buffer.baseAddress! + filled).copyMemory(from: staging.baseAddress! + stagedStart, byteCount: count)
                stagedStart += count
                filled += count
                continue
            }
            guard nextChunk < layout.chunkCount else { break }
            if buffer.count - filled >= sealedSize {
                try sealNextChunk(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled ..< filled + sealedSize]))
                filled += sealedSize
            } else {
                try sealNextChunk(into: UnsafeMutableRawBufferPointer(rebasing: staging[0 ..< sealedSize]))
                stagedStart = 0
            }
        }
        return filled
    }

    private mutating func sealNextChunk(into output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        let range = layout.plaintextRange(ofChunk: nextChunk)
        var chunk = UnsafeRawBufferPointer(rebasing: plaintext[range])
        if range.count < BlockLayout.chunkSize {
            // Padding hides the exact length inside the last chunk (see BlockLayout).
            let padded = UnsafeMutableRawBufferPointer(rebasing: paddedTail[0 ..< BlockLayout.chunkSize])
            if range.count > 0 { padded.baseAddress!.copyMemory(from: chunk.baseAddress!, byteCount: range.count) }
            (padded.baseAddress! + range.count).initializeMemory(as: UInt8.self, repeating: 0,
                                                                 count: BlockLayout.chunkSize - range.count)
            chunk = UnsafeRawBufferPointer(padded)
        }
        do {
            let written = try cipher.sealChunk(plaintext: chunk, blockID: blockID, index: UInt32(nextChunk), into: output)
            precondition(written == layout.sealedChunkSize, "sealed chunk of \(written) bytes, expected \(layout.sealedChunkSize)")
        } catch {
            failure = error
            throw error
        }
        nextChunk += 1
    }
}
