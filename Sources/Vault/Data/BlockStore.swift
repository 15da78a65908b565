import Buffers
import Synchronization
import VaultCrypto
import VolumePool

/// Stores immutable blocks of file content: each block (at most `blockSize` plaintext bytes)
/// gets a fresh random id and its 32 KiB chunks are each sealed with the content key (layout:
/// `BlockLayout`, docs/FORMAT-blocks.md). A block is one erasure-coded pool object of its own,
/// or — small, and not needed durable at once — a run of chunks in a shared pack
/// (`BlockPacker`).
///
/// - `write` seals chunk by chunk while the pool pulls bytes; no sealed copy of the block is
///   made (a packed block is sealed into its pack's buffer). With `durable: false` (the normal
///   case) the block is on stable storage only after `writePendingPacks()` and a flush of the
///   volumes, which the journal's commit of records that reference it makes.
/// - `read` fetches only the sealed chunks a range touches (one ranged `pool.get` per run of
///   chunks not in the cache), authenticates each, and copies out the requested bytes.
///   Damage the pool cannot repair, tampering, and chunks moved from another place or block
///   all fail with `.io`; no unauthenticated byte is ever returned.
/// - `delete` removes the object; callers delete only blocks no durable metadata references.
///
/// Thread-safe; reads and writes of different blocks run in parallel.
public final class BlockStore: Sendable {
    /// Plaintext bytes a block holds at most.
    public static let blockSize = 4 << 20
    /// Plaintext bytes per sealed chunk.
    public static let chunkSize = ContentCipher.chunkSize

    public let pool: VolumePool
    public let cipher: ContentCipher
    public let cache: ChunkCache
    private let statistics = Mutex(Statistics())
    /// See `Vault.Options.pooledChunkBuffers`.
    private let pooledChunkBuffers: Bool
    private let prefetcher = BlockPrefetcher()
    private let packer: BlockPacker
    /// See `Vault.Options.packsSmallBlocks`; packs already written are read and freed either way.
    private let packsSmallBlocks: Bool

    /// What the store has done since it was created (tests and benchmarks read it).
    public struct Statistics: Sendable, Equatable {
        public var blocksWritten = 0
        public var plaintextBytesWritten = 0
        public var chunksSealed = 0
        public var chunksOpened = 0
        /// Ranged `pool.get` calls made by reads (0 for reads served by the cache).
        public var objectFetches = 0
        /// Blocks written into a shared pack instead of an object of their own.
        public var blocksPacked = 0
        /// Whole blocks fetched into the cache ahead of a sequential reader (`prefetch`).
        public var blocksPrefetched = 0
        public var blocksDeleted = 0
        /// Deletes the pool could not complete; the leftovers are orphans for fsck/heal.
        public var deleteFailures = 0
    }

    public init(pool: VolumePool, cipher: ContentCipher, cache: ChunkCache = ChunkCache(byteBudget: 64 << 20),
                pooledChunkBuffers: Bool = true, packsSmallBlocks: Bool = true) {
        self.pool = pool
        self.cipher = cipher
        self.cache = cache
        self.pooledChunkBuffers = pooledChunkBuffers
        self.packsSmallBlocks = packsSmallBlocks
        packer = BlockPacker(
            sealedChunkSize: BlockLayout(length: 0, cipherOverhead: cipher.overhead).sealedChunkSize,
            put: { (id, bytes, caching) throws(VaultError) in
                var source = BufferSource(bytes)
                do {
                    _ = try pool.put(id, from: &source, length: bytes.count, durable: false, caching: caching)
                } catch {
                    throw VaultError(poolFailure: error, context: "writing pack \(id.hex) of small blocks")
                }
            },
            delete: { id in _ = try? pool.delete(id) },
            fillPadding: { (padding) throws(VaultError) in
                do {
                    try cipher.fillPadding(padding)
                } catch {
                    throw VaultError(.io, "padding a pack of small blocks: \(error)")
                }
            })
    }

    public var counters: Statistics { statistics.withLock { $0 } }

    /// Length of the pool object that holds a block of `plaintextLength` bytes: whole sealed
    /// chunks, so only the plaintext length rounded up to 32 KiB shows on the volumes.
    public func storedLength(plaintextLength: Int) -> Int {
        layout(plaintextLength).storedLength
    }

    // MARK: - Write

    /// Seals `plaintext` (at most `blockSize` bytes) into a new block and returns its reference.
    public func write(_ plaintext: UnsafeRawBufferPointer, durable: Bool,
                      caching: ShardCaching = .keep) throws(VaultError) -> BlockReference {
        guard plaintext.count <= Self.blockSize else {
            throw VaultError(.invalidArgument, "a block holds at most \(Self.blockSize) bytes, \(plaintext.count) given")
        }
        let id = ObjectID.random()
        if !durable, packsSmallBlocks, plaintext.count > 0, plaintext.count <= BlockPacker.largestPackedBlock {
            return try writePacked(plaintext, id: id, layout: layout(plaintext.count, compactTail: true), caching: caching)
        }
        let layout = layout(plaintext.count)
        try withChunkBuffers { (staging, paddedTail) throws(VaultError) in
            var source = ChunkSealingSource(plaintext: plaintext, layout: layout, cipher: cipher, blockID: id.blockID,
                                            staging: staging, paddedTail: paddedTail)
            do {
                try pool.put(id, from: &source, length: layout.storedLength, durable: durable, caching: caching)
            } catch {
                throw BlockStoreFailure.vaultError(error, cryptoFailure: source.failure, operation: .write, block: id)
            }
        }
        recordWrite(layout, packed: false)
        return BlockReference(id: id, length: UInt32(plaintext.count))
    }

    /// Seals a small block into the open pack; a pack that filled up is written here, by the
    /// writer that found it full.
    private func writePacked(_ plaintext: UnsafeRawBufferPointer, id: ObjectID, layout: BlockLayout,
                             caching: ShardCaching) throws(VaultError) -> BlockReference {
        let location = try withChunkBuffers { (staging, paddedTail) throws(VaultError) in
            try packer.append(byteCount: layout.storedLength, caching: caching) { (destination) throws(VaultError) in
                var source = ChunkSealingSource(plaintext: plaintext, layout: layout, cipher: cipher, blockID: id.blockID,
                                                staging: staging, paddedTail: paddedTail)
                do {
                    _ = try source.read(into: destination)
                } catch {
                    throw BlockStoreFailure.vaultError(error, cryptoFailure: source.failure, operation: .write, block: id)
                }
            }
        }
        recordWrite(layout, packed: true)
        // The block is in its pack whatever happens to a full one: a pack that fails to be
        // written is kept for the next sync, which reports the failure.
        try? packer.writeFullPacks()
        return BlockReference(id: id, length: UInt32(plaintext.count), pack: location)
    }

    /// Counts a written block.
    private func recordWrite(_ layout: BlockLayout, packed: Bool) {
        statistics.withLock {
            $0.blocksWritten += 1
            if packed { $0.blocksPacked += 1 }
            $0.plaintextBytesWritten += layout.length
            $0.chunksSealed += layout.chunkCount
        }
    }

    /// Writes the packs still in memory, so a flush of the volumes makes every block written
    /// so far durable.
    public func writePendingPacks() throws(VaultError) {
        try packer.flush()
    }

    // MARK: - Read

    /// Copies bytes `range` of the block's plaintext to the start of `output`.
    ///
    /// Chunks found in the cache are copied from it; every other run of touched chunks is
    /// fetched with one ranged get, authenticated, cached and copied. A run that reaches the
    /// end of the range goes on through up to `readahead` more bytes of uncached chunks, which
    /// are only cached. On error `output` may hold some authenticated bytes of the range,
    /// never anything else.
    public func read(_ block: BlockReference, range: Range<Int>,
                     into output: UnsafeMutableRawBufferPointer, readahead: Int = 0) throws(VaultError) {
        let length = Int(block.length)
        guard length <= Self.blockSize, range.lowerBound >= 0, range.upperBound <= length else {
            throw VaultError(.invalidArgument, "reading block \(block.id.hex): range \(range.lowerBound)..<\(range.upperBound) "
                + "lies outside its \(length) bytes")
        }
        guard output.count >= range.count else {
            throw VaultError(.invalidArgument, "reading block \(block.id.hex): \(range.count) bytes asked into a buffer of \(output.count)")
        }
        guard !range.isEmpty, let destination = output.baseAddress else { return }
        prefetcher.waitUntilFetched(block.id)
        let layout = layout(of: block)
        let chunks = layout.chunks(covering: range)
        // Fetched-ahead chunks live only in the cache: never fetch more than a quarter of it.
        let ahead = min(readahead, cache.byteBudget / 4)
        let fetchLimit = ahead > 0 ? layout.chunks(covering: range.lowerBound ..< min(length, range.upperBound + ahead)).upperBound
            : chunks.upperBound
        // Each chunk is looked up exactly once: a hit is copied out on the spot, a miss joins
        // the run of misses that one ranged get will fetch.
        var chunk = chunks.lowerBound
        while chunk < chunks.upperBound {
            if copyFromCache(block.id, chunk: chunk, layout: layout, range: range, output: destination) {
                chunk += 1
                continue
            }
            var runEnd = chunk + 1
            var runEndWasCached = false
            while runEnd < fetchLimit {
                let cached = runEnd < chunks.upperBound
                    ? copyFromCache(block.id, chunk: runEnd, layout: layout, range: range, output: destination)
                    : cache.contains(ChunkCache.Key(block: block.id, chunk: UInt32(runEnd)))
                if cached {
                    runEndWasCached = true
                    break
                }
                runEnd += 1
            }
            try fetch(block, chunks: chunk ..< runEnd, layout: layout, range: range, output: destination)
            chunk = runEnd + (runEndWasCached ? 1 : 0)
        }
    }

    /// Fetches the whole block into the cache on a background thread, unless its first chunk
    /// is cached already (read, or prefetched before). Failures are left for the read that
    /// follows, which fetches again and reports them; a read of the block meanwhile waits for
    /// the prefetch instead of fetching the same chunks twice.
    public func prefetch(_ block: BlockReference) {
        let layout = layout(of: block)
        guard layout.chunkCount > 0, !cache.contains(ChunkCache.Key(block: block.id, chunk: 0)) else { return }
        prefetcher.start(block.id) { [self] in
            withUnsafeTemporaryAllocation(byteCount: 1, alignment: 1) { unused in
                // An empty requested range: every chunk goes to the cache, nothing to `unused`.
                do {
                    try fetch(block, chunks: 0 ..< layout.chunkCount, layout: layout, range: 0 ..< 0,
                              output: unused.baseAddress!)
                    statistics.withLock { $0.blocksPrefetched += 1 }
                } catch {}
            }
        }
    }

    private func copyFromCache(_ id: ObjectID, chunk: Int, layout: BlockLayout, range: Range<Int>,
                               output: UnsafeMutableRawPointer) -> Bool {
        let chunkRange = layout.plaintextRange(ofChunk: chunk)
        let wanted = chunkRange.clamped(to: range)
        let local = wanted.lowerBound - chunkRange.lowerBound ..< wanted.upperBound - chunkRange.lowerBound
        return cache.copy(ChunkCache.Key(block: id, chunk: UInt32(chunk)), range: local,
                          to: output + (wanted.lowerBound - range.lowerBound))
    }

    /// Fetches, authenticates, caches and copies out the chunks `chunks` with one ranged get
    /// of the block's object, or of its pack (from memory while the pack is unwritten).
    private func fetch(_ block: BlockReference, chunks: Range<Int>, layout: BlockLayout, range: Range<Int>,
                       output: UnsafeMutableRawPointer) throws(VaultError) {
        let id = block.id
        let stored = layout.storedRange(ofChunks: chunks)
        let packOffset = block.pack?.byteOffset(sealedChunkSize: layout.sealedChunkSize) ?? 0
        let objectRange = stored.lowerBound + packOffset ..< stored.upperBound + packOffset
        let objectLength: Int?
        let chunksOpened: Int
        (objectLength, chunksOpened) = try withChunkBuffers { (staging, plaintext) throws(VaultError) -> (Int?, Int) in
            var sink = ChunkOpeningSink(cipher: cipher, block: id, layout: layout, cache: cache,
                                        firstChunk: chunks.lowerBound, requested: range, output: output,
                                        staging: staging, plaintext: plaintext)
            let objectLength: Int?
            do {
                if let pack = block.pack,
                   try packer.withUnwrittenBytes(of: pack.object, range: objectRange, { (bytes) throws(VaultError) in
                       do {
                           try sink.write(bytes)
                       } catch {
                           throw BlockStoreFailure.vaultError(error, cryptoFailure: sink.failure, operation: .read, block: id)
                       }
                   }) {
                    objectLength = nil
                } else {
                    objectLength = try pool.get(block.storageObject, range: objectRange, into: &sink).length
                }
            } catch let error as VaultError {
                throw error
            } catch {
                throw BlockStoreFailure.vaultError(error, cryptoFailure: sink.failure, operation: .read, block: id)
            }
            guard sink.nextChunk == chunks.upperBound, sink.endsOnChunkBoundary else {
                throw VaultError(.io, "reading block \(id.hex): the pool delivered chunks up to \(sink.nextChunk) "
                    + "of \(chunks.lowerBound)..<\(chunks.upperBound)")
            }
            return (objectLength, chunks.count)
        }
        statistics.withLock {
            $0.objectFetches += 1
            $0.chunksOpened += chunksOpened
        }
        // Authenticated chunks under the right id and index, but a different object length,
        // mean the object was truncated, extended or rolled back to other content. A pack's
        // length is recorded nowhere: a pack cut short fails the ranged get instead.
        if block.pack == nil, let objectLength, objectLength != layout.storedLength {
            throw BlockStoreFailure.lengthMismatch(block: id, stored: objectLength, expected: layout.storedLength,
                                                   plaintextLength: layout.length)
        }
    }

    // MARK: - Delete

    /// Removes the block's object and its cached chunks. Shards that cannot be removed now
    /// (a volume offline or failing) are left for `heal`/`fsck --repair` and counted in
    /// `counters.deleteFailures`; the block must no longer be referenced either way.
    public func delete(_ block: BlockReference) {
        cache.remove(block: block.id, chunkCount: layout(Int(block.length)).chunkCount)
        if let pack = block.pack {
            packer.release(pack.object)
            statistics.withLock { $0.blocksDeleted += 1 }
            return
        }
        let removed: Bool
        do {
            try pool.delete(block.id)
            removed = true
        } catch {
            removed = false
        }
        statistics.withLock {
            $0.blocksDeleted += 1
            if !removed { $0.deleteFailures += 1 }
        }
    }

    /// Counts the blocks the namespace references at mount as members of their packs, so a
    /// pack is deleted with its last member.
    public func adopt(_ block: BlockReference) {
        if let pack = block.pack { packer.adopt(pack.object) }
    }

    /// Packs of small blocks still in memory (written by the next `writePendingPacks`).
    public var unwrittenPacks: Int { packer.unwrittenCount }

    // MARK: - Helpers

    private func layout(_ plaintextLength: Int, compactTail: Bool = false) -> BlockLayout {
        BlockLayout(length: plaintextLength, cipherOverhead: cipher.overhead, compactTail: compactTail)
    }

    func layout(of block: BlockReference) -> BlockLayout {
        layout(Int(block.length), compactTail: block.pack?.hasCompactTail ?? false)
    }

    /// Two chunk buffers from this thread's pool, held until `body` returns.
    private func withChunkBuffers<Result>(
        _ body: (UnsafeMutableRawBufferPointer, UnsafeMutableRawBufferPointer) throws(VaultError) -> Result
    ) throws(VaultError) -> Result {
        if !pooledChunkBuffers {
            let first = UnsafeMutableRawBufferPointer.allocate(byteCount: ChunkBufferPool.bufferSize, alignment: ChunkBufferPool.bufferAlignment)
            let second = UnsafeMutableRawBufferPointer.allocate(byteCount: ChunkBufferPool.bufferSize, alignment: ChunkBufferPool.bufferAlignment)
            defer {
                first.deallocate()
                second.deallocate()
            }
            return try body(first, second)
        }
        let first = ChunkBufferPool.take()
        let second = ChunkBufferPool.take()
        return try withExtendedLifetime(first) { () throws(VaultError) -> Result in
            try withExtendedLifetime(second) { () throws(VaultError) -> Result in
                try body(first.bytes, second.bytes)
            }
        }
    }
}
