import VaultCrypto
import VolumePool

/// Feeds `VolumePool.put` the sealed chunks of one block, sealing each only when the pool
/// asks for its bytes, so no sealed copy of the whole block ever exists.
///
/// A chunk is sealed straight into the pool's stripe buffer whenever it fits there whole;
/// only the chunk that straddles two stripes goes through `staging` (one per stripe, about
/// 3% of the bytes with 1 MiB stripes). A short last chunk is zero-padded in `paddedTail`
/// first, unless the layout seals it at its own length (see `BlockLayout`).
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
    /// Sealed bytes of the last chunk sealed into `staging` not handed out yet.
    private var staged = 0 ..< 0
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
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            if !staged.isEmpty {
                let count = min(staged.count, buffer.count - filled)
                (buffer.baseAddress! + filled).copyMemory(from: staging.baseAddress! + staged.lowerBound, byteCount: count)
                staged = staged.lowerBound + count ..< staged.upperBound
                filled += count
                continue
            }
            guard nextChunk < layout.chunkCount else { break }
            let sealedSize = layout.sealedSize(ofChunk: nextChunk)
            if buffer.count - filled >= sealedSize {
                try sealNextChunk(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled ..< filled + sealedSize]))
                filled += sealedSize
            } else {
                try sealNextChunk(into: UnsafeMutableRawBufferPointer(rebasing: staging[0 ..< sealedSize]))
                staged = 0 ..< sealedSize
            }
        }
        return filled
    }

    private mutating func sealNextChunk(into output: UnsafeMutableRawBufferPointer) throws(CryptoError) {
        let range = layout.plaintextRange(ofChunk: nextChunk)
        let sealedCount = layout.sealedPlaintextCount(ofChunk: nextChunk)
        var chunk = UnsafeRawBufferPointer(rebasing: plaintext[range])
        if range.count < sealedCount {
            // Padding hides the exact length inside the last chunk (see BlockLayout).
            let padded = UnsafeMutableRawBufferPointer(rebasing: paddedTail[0 ..< sealedCount])
            if range.count > 0 { padded.baseAddress!.copyMemory(from: chunk.baseAddress!, byteCount: range.count) }
            (padded.baseAddress! + range.count).initializeMemory(as: UInt8.self, repeating: 0, count: sealedCount - range.count)
            chunk = UnsafeRawBufferPointer(padded)
        }
        do {
            let written = try cipher.sealChunk(plaintext: chunk, blockID: blockID, index: UInt32(nextChunk), into: output)
            precondition(written == output.count, "sealed chunk of \(written) bytes, expected \(output.count)")
        } catch {
            failure = error
            throw error
        }
        nextChunk += 1
    }
}
