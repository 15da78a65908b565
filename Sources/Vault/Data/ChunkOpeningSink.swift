import VaultCrypto
import VolumePool

/// Receives a run of sealed chunks from a ranged `VolumePool.get`, opens (verifies and
/// decrypts) each as soon as it is complete, caches it, and copies the part the caller asked
/// for into the caller's buffer. Nothing reaches the caller's buffer or the cache before its
/// chunk has authenticated.
///
/// The pool delivers bytes in pieces that follow its stripes, not our chunks: a chunk lying
/// whole inside a piece is opened in place; one cut by a piece boundary is first gathered in
/// `staging`. Chunks are opened into `plaintext` (both caller-owned chunk buffers), except
/// that a chunk the caller wants whole is decrypted straight into the caller's buffer.
struct ChunkOpeningSink: ByteSink {
    private let cipher: ContentCipher
    private let block: ObjectID
    private let layout: BlockLayout
    private let cache: ChunkCache
    /// The plaintext range of the block the caller asked for, and where its first byte goes.
    private let requested: Range<Int>
    private let output: UnsafeMutableRawPointer
    private let staging: UnsafeMutableRawBufferPointer
    private let plaintext: UnsafeMutableRawBufferPointer

    private(set) var nextChunk: Int
    private var stagedCount = 0
    /// The crypto failure behind a thrown write (the pool turns sink errors into strings).
    private(set) var failure: CryptoError?

    init(cipher: ContentCipher, block: ObjectID, layout: BlockLayout, cache: ChunkCache, firstChunk: Int,
         requested: Range<Int>, output: UnsafeMutableRawPointer,
         staging: UnsafeMutableRawBufferPointer, plaintext: UnsafeMutableRawBufferPointer) {
        precondition(staging.count >= layout.sealedChunkSize && plaintext.count >= BlockLayout.chunkSize,
                     "chunk buffers too small for a sealed chunk")
        self.cipher = cipher
        self.block = block
        self.layout = layout
        self.cache = cache
        self.requested = requested
        self.output = output
        self.staging = staging
        self.plaintext = plaintext
        self.nextChunk = firstChunk
    }

    /// True when the run ended on a chunk boundary (no partial chunk left over).
    var endsOnChunkBoundary: Bool { stagedCount == 0 }

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            guard nextChunk < layout.chunkCount else {
                throw VaultError(.io, "reading block \(block.hex): \(bytes.count - offset) bytes past its last chunk")
            }
            let sealedSize = layout.sealedSize(ofChunk: nextChunk)
            if stagedCount == 0 && bytes.count - offset >= sealedSize {
                try open(UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + sealedSize]))
                offset += sealedSize
                continue
            }
            let count = min(sealedSize - stagedCount, bytes.count - offset)
            (staging.baseAddress! + stagedCount).copyMemory(from: bytes.baseAddress! + offset, byteCount: count)
            stagedCount += count
            offset += count
            if stagedCount == sealedSize {
                try open(UnsafeRawBufferPointer(rebasing: staging[0 ..< sealedSize]))
                stagedCount = 0
            }
        }
    }

    private mutating func open(_ sealed: UnsafeRawBufferPointer) throws(CryptoError) {
        let chunkRange = layout.plaintextRange(ofChunk: nextChunk)
        let wanted = chunkRange.clamped(to: requested)
        let destination = output + (wanted.lowerBound - requested.lowerBound)
        // A full chunk wanted whole is decrypted straight to the caller: one copy less.
        let direct = wanted.count == BlockLayout.chunkSize
        let target = direct
            ? UnsafeMutableRawBufferPointer(start: destination, count: BlockLayout.chunkSize)
            : UnsafeMutableRawBufferPointer(rebasing: plaintext[0 ..< BlockLayout.chunkSize])
        do {
            _ = try cipher.openChunk(sealed: sealed, blockID: block.blockID, index: UInt32(nextChunk), into: target)
        } catch {
            failure = error
            throw error
        }
        let authentic = UnsafeRawBufferPointer(start: target.baseAddress, count: chunkRange.count)
        cache.insert(ChunkCache.Key(block: block, chunk: UInt32(nextChunk)), plaintext: authentic)
        if !direct && !wanted.isEmpty {
            destination.copyMemory(from: target.baseAddress! + (wanted.lowerBound - chunkRange.lowerBound),
                                   byteCount: wanted.count)
        }
        nextChunk += 1
    }
}
