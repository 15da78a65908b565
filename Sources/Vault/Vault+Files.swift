import Foundation
import VolumePool

/// Open files, reads, writes, truncation and flushing.
extension Vault {
    /// Files whose final size is at most this live inside their metadata record
    /// (docs/FORMAT-vault.md, "Inline files", for the measurement behind it).
    public static let defaultInlineLimit = 2048

    /// Opens a regular file; the handle keeps an unlinked file readable until `release`.
    public func open(_ inode: InodeNumber, rereads: RereadCache = .volumes) throws(VaultError) -> FileHandle {
        while true {
            let seenRemovals = openFiles.removalCount
            let (attributes, content) = try read { (namespace) throws(VaultError) in
                (try namespace.attributes(inode), try namespace.content(inode))
            }
            // nil: a closed file's write-back recorded newer content and left the table
            // between the read and now; what was read may be stale.
            if let file = openFiles.retain(inode, seenRemovals: seenRemovals, create: {
                OpenFile(inode: inode, size: attributes.size, content: content)
            }) {
                file.lock.lock()
                file.shardCaching = rereads == .caller ? .bypass : .keep
                file.lock.unlock()
                return FileHandle(file: file)
            }
        }
    }

    /// Closes a handle. The last one of a file hands its buffered data to write-behind
    /// (Vault+WriteBehind.swift); the last one of an unlinked file frees it.
    public func release(_ handle: FileHandle) throws(VaultError) {
        let file = handle.file
        file.lock.lock()
        defer { file.lock.unlock() }
        guard openFiles.dropHandle(file) else { return }
        try closeLastHandle(file)
    }

    /// The first failure of a background seal or write-back of this file not yet reported;
    /// the FUSE door's flush (every close) reports it, as close(2) should.
    public func takeWriteBackFailure(_ handle: FileHandle) -> VaultError? {
        let file = handle.file
        file.lock.lock()
        defer { file.lock.unlock() }
        defer { file.writebackError = nil }
        return file.writebackError
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns how many (0 at end of file).
    public func read(_ handle: FileHandle, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(VaultError) -> Int {
        let file = handle.file
        file.lock.lock()
        defer { file.lock.unlock() }
        return try readLocked(file, at: offset, into: buffer)
    }

    private func readLocked(_ file: OpenFile, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(VaultError) -> Int {
        guard offset < file.size else { return 0 }
        let end = min(file.size, offset + UInt64(buffer.count))
        let readahead = file.readahead.advance(readingAt: offset, count: Int(end - offset))
        var written = 0
        for (index, local) in OpenFile.blocks(covering: offset ..< end) {
            let destination = UnsafeMutableRawBufferPointer(rebasing: buffer[written ..< written + local.count])
            if let dirty = file.dirtyBlocks[index] ?? file.sealing[index] {
                try readDirty(dirty, file: file, block: index, range: local, into: destination)
            } else {
                try readStored(file.content, block: index, range: local, into: destination, readahead: readahead)
            }
            written += local.count
        }
        prefetchAhead(file, after: Int((end - 1) / UInt64(OpenFile.blockSize)), readahead: readahead)
        return written
    }

    /// Blocks a sequential reader starts fetching past the one it is in, at most: a cold
    /// 512 MiB read took 0.7–1.4 s with 1, 0.7–1.2 s with 2, 0.56–0.87 s with 4 and 0.7–0.9 s
    /// with 6 (2-core VM). Never more than a quarter of the chunk cache, which holds them.
    static let prefetchedBlocks = 4

    /// Once reading is sequential with the widest window, keeps the next blocks' fetches
    /// running in the background (`BlockStore.prefetch`).
    private func prefetchAhead(_ file: OpenFile, after index: Int, readahead: Int) {
        guard readahead >= SequentialReadahead.maximumWindow else {
            file.prefetchedThrough = -1
            return
        }
        guard case let .blocks(slots) = file.content else { return }
        let depth = max(1, min(Self.prefetchedBlocks, blocks.cache.byteBudget / 4 / OpenFile.blockSize))
        for next in stride(from: max(index + 1, file.prefetchedThrough + 1), through: index + depth, by: 1) {
            guard next < slots.count, UInt64(next) * UInt64(OpenFile.blockSize) < file.size else { break }
            file.prefetchedThrough = next
            if let block = slots[next], file.dirtyBlocks[next] == nil, file.sealing[next] == nil {
                blocks.prefetch(block)
            }
        }
    }

    /// Writes `bytes` at `offset` (the caller resolves O_APPEND with `size(of:)`).
    public func write(_ handle: FileHandle, at offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws(VaultError) {
        if let readOnlyReason { throw VaultError(.readOnly, readOnlyReason) }
        let file = handle.file
        file.lock.lock()
        defer { file.lock.unlock() }
        let end = offset + UInt64(bytes.count)
        guard end <= Self.maximumFileSize else { throw VaultError(.fileTooLarge, "write would pass the maximum file size") }
        file.pendingMtime = nil   // a write after an explicit mtime makes the file modified now
        file.noteWrite(now: MonotonicClock.nanoseconds)
        var consumed = 0
        for (index, local) in OpenFile.blocks(covering: offset ..< end) {
            file.waitForSeals(of: index)
            let dirty = try dirtyBlock(file, index)
            let firstChunk = local.lowerBound / OpenFile.chunkSize
            let lastChunk = (local.upperBound - 1) / OpenFile.chunkSize
            for chunk in firstChunk ... lastChunk where !dirty.isLoaded(chunk) {
                let chunkRange = chunk * OpenFile.chunkSize ..< (chunk + 1) * OpenFile.chunkSize
                if local.lowerBound > chunkRange.lowerBound || local.upperBound < chunkRange.upperBound {
                    try readStored(file.content, block: index, range: chunkRange,
                                   into: UnsafeMutableRawBufferPointer(rebasing: dirty.bytes[chunkRange]))
                }
                dirty.markLoaded(chunk)
            }
            dirty.bytes.baseAddress!.advanced(by: local.lowerBound)
                .copyMemory(from: bytes.baseAddress!.advanced(by: consumed), byteCount: local.count)
            dirty.markWritten(local)
            consumed += local.count
            file.size = max(file.size, UInt64(index * OpenFile.blockSize + local.upperBound))
            // The kernel's writeback sends a block's pages out of order from several threads:
            // sealing a block when its end arrives sealed it with chunks still to come, which
            // then read it back and sealed it again (about ten blocks of a streamed 512 MiB
            // file, a quarter of the daemon's CPU in that write).
            if dirty.isComplete { try sealInBackground(file, block: index) }
        }
        try sealOldestWhileOverBound(file)
    }

    /// Keeps a file's buffered blocks within `maximumIncompleteDirtyBlocks`: past it, the
    /// lowest-numbered dirty block is sealed as it is, what it lacks read from the stored
    /// block. Waiting for a write to reach a block's end, as this once did, left a random
    /// writer over a large file buffering every block it touched until close.
    private func sealOldestWhileOverBound(_ file: OpenFile) throws(VaultError) {
        while file.dirtyBlocks.count > OpenFile.maximumIncompleteDirtyBlocks, let oldest = file.dirtyBlocks.keys.min() {
            try sealInBackground(file, block: oldest)
        }
    }

    /// Writes back everything buffered for this handle's file (not yet durable: see `sync`).
    public func flush(_ handle: FileHandle) throws(VaultError) {
        let file = handle.file
        file.lock.lock()
        defer { file.lock.unlock() }
        try flush(file)
    }

    /// fsync: flush, then wait for the journal.
    public func fsync(_ handle: FileHandle) throws(VaultError) {
        try flush(handle)
        try sync()
    }

    /// The size of an open file including unflushed writes.
    public func size(of handle: FileHandle) -> UInt64 {
        handle.file.publishedSize.load(ordering: .acquiring)
    }

    /// Sets the size of a regular file (truncate/ftruncate), open or not.
    public func truncate(_ inode: InodeNumber, to size: UInt64) throws(VaultError) {
        guard size <= Self.maximumFileSize else { throw VaultError(.fileTooLarge, "size exceeds the maximum file size") }
        let handle = try open(inode)
        defer { try? release(handle) }
        let file = handle.file
        file.lock.lock()
        defer { file.lock.unlock() }
        try flush(file)
        var content = file.content
        if case var .blocks(slots) = content {
            let keep = Int((size + UInt64(OpenFile.blockSize) - 1) / UInt64(OpenFile.blockSize))
            if slots.count > keep { slots.removeSubrange(keep...) }
            let tail = Int(size % UInt64(OpenFile.blockSize))
            if tail > 0, keep > 0, keep <= slots.count, let last = slots[keep - 1], Int(last.length) > tail {
                slots[keep - 1] = try rewrite(last, keeping: tail)
            }
            content = .blocks(slots)
        } else if case let .inline(bytes) = content {
            if size <= UInt64(inlineLimit) {
                content = .inline(Array(bytes.prefix(Int(size))) + [UInt8](repeating: 0, count: max(0, Int(size) - bytes.count)))
            } else {
                content = bytes.isEmpty ? .blocks([]) : .blocks([try store(bytes)])
            }
        }
        file.size = size
        try record(file, content: content)
    }

    // MARK: Internals

    static let maximumFileSize: UInt64 = 1 << 44

    /// Copies `range` of block `index` of `content`; with `readahead`, up to that many bytes
    /// after the range are fetched into the chunk cache by the same get.
    func readStored(_ content: FileContent, block index: Int, range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer,
                    readahead: Int = 0) throws(VaultError) {
        // Only what no stored byte covers is zeroed (holes, past the end): zeroing the whole
        // buffer before filling it cost ~3 % of the daemon's CPU on a 1 GiB GET.
        var filled = 0
        defer { UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]).initializeMemory(as: UInt8.self, repeating: 0) }
        switch content {
        case let .inline(bytes):
            let start = index * OpenFile.blockSize + range.lowerBound
            let available = max(0, min(bytes.count - start, range.count))
            if available > 0 {
                bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + start, byteCount: available) }
                filled = available
            }
        case let .blocks(slots):
            guard index < slots.count, let block = slots[index] else { return }
            let stored = range.clamped(to: 0 ..< Int(block.length))
            guard !stored.isEmpty else { return }
            try blocks.read(block, range: stored,
                            into: UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< stored.count]), readahead: readahead)
            filled = stored.count
        }
    }

    private func readDirty(_ dirty: DirtyBlock, file: OpenFile, block index: Int, range: Range<Int>,
                           into buffer: UnsafeMutableRawBufferPointer) throws(VaultError) {
        var position = range.lowerBound
        while position < range.upperBound {
            let chunk = position / OpenFile.chunkSize
            let end = min(range.upperBound, (chunk + 1) * OpenFile.chunkSize)
            let destination = UnsafeMutableRawBufferPointer(rebasing: buffer[(position - range.lowerBound) ..< (end - range.lowerBound)])
            if dirty.isLoaded(chunk) {
                destination.baseAddress!.copyMemory(from: dirty.bytes.baseAddress! + position, byteCount: end - position)
            } else {
                try readStored(file.content, block: index, range: position ..< end, into: destination)
            }
            position = end
        }
    }

    private func dirtyBlock(_ file: OpenFile, _ index: Int) throws(VaultError) -> DirtyBlock {
        if let existing = file.dirtyBlocks[index] { return existing }
        let block = DirtyBlock()
        file.dirtyBlocks[index] = block
        return block
    }

    /// Seals every dirty block and records the file's content and size.
    func flush(_ file: OpenFile) throws(VaultError) {
        try flushContent(file)
        file.unflushedSince = 0
        // Recording the content set the mtime to now; an mtime set explicitly after the last
        // write wins (see setAttributes).
        if let mtime = file.pendingMtime {
            file.pendingMtime = nil
            try mutate { (namespace) throws(VaultError) in
                ((), [try namespace.setAttributes(file.inode, AttributeChanges(mtime: mtime), time: .now)])
            }
        }
    }

    private func flushContent(_ file: OpenFile) throws(VaultError) {
        file.waitForSeals()
        if let failure = file.writebackError {
            file.writebackError = nil
            throw failure
        }
        let recordedSize = try read { (namespace) throws(VaultError) in try namespace.attributes(file.inode).size }
        guard file.isDirty || recordedSize != file.size else { return }
        if file.size <= UInt64(inlineLimit) {
            var bytes = [UInt8](repeating: 0, count: Int(file.size))
            _ = try bytes.withMutableVaultBytes { (raw) throws(VaultError) in try readLocked(file, at: 0, into: raw) }
            file.dirtyBlocks.removeAll()
            return try record(file, content: .inline(bytes))
        }
        try seal(file, blocks: file.dirtyBlocks.keys.sorted())
        if recordedSize != file.size { try record(file, content: file.content) }
    }

    /// A full block is encrypted, erasure-coded and written off the writer's path: the writer
    /// goes on filling the next block while this one is sealed on another core.
    ///
    /// The block moves from `dirtyBlocks` to `sealing` in one step under the lock, after the
    /// wait for a free slot (which releases the lock): a block detached from both while
    /// waiting was invisible, so a concurrent write to it (the kernel's writeback sends a
    /// block's pages out of order from several threads) started a second, partial copy that
    /// replaced the first when recorded, and a read fell through to the old content.
    private func sealInBackground(_ file: OpenFile, block index: Int) throws(VaultError) {
        while file.sealing.count >= OpenFile.maximumSealsInFlight { file.lock.wait() }
        guard let dirty = file.dirtyBlocks[index] else { return }  // sealed meanwhile
        for chunk in 0 ..< OpenFile.chunksPerBlock where !dirty.isLoaded(chunk) {
            let range = chunk * OpenFile.chunkSize ..< (chunk + 1) * OpenFile.chunkSize
            try readStored(file.content, block: index, range: range, into: UnsafeMutableRawBufferPointer(rebasing: dirty.bytes[range]))
            dirty.markLoaded(chunk)
        }
        try leaveInlineForm(file, rewriting: index)
        file.dirtyBlocks[index] = nil
        file.sealing[index] = dirty
        let caching = file.shardCaching
        sealQueue.async { [self] in
            let sealed = Result { () throws(VaultError) in
                try blocks.write(UnsafeRawBufferPointer(dirty.bytes), durable: false, caching: caching)
            }
            file.lock.lock()
            defer {
                file.sealing[index] = nil
                file.lock.broadcast()
                file.lock.unlock()
            }
            do throws(VaultError) {
                // Inline content is at most 32 KiB, so only block 0 could hold it, and this
                // full block already carries those bytes (loaded above).
                try recordBlock(file, index: index, try sealed.get())
            } catch {
                file.writebackError = file.writebackError ?? error
            }
        }
    }

    /// Encrypts and stores the given dirty blocks, then records the new content.
    private func seal(_ file: OpenFile, blocks indices: [Int]) throws(VaultError) {
        guard !indices.isEmpty else { return }
        try leaveInlineForm(file)
        for index in indices {
            guard let dirty = file.dirtyBlocks[index] else { continue }
            let start = UInt64(index) * UInt64(OpenFile.blockSize)
            guard file.size > start else { file.dirtyBlocks[index] = nil; continue }
            let length = Int(min(UInt64(OpenFile.blockSize), file.size - start))
            for chunk in 0 ..< (length + OpenFile.chunkSize - 1) / OpenFile.chunkSize where !dirty.isLoaded(chunk) {
                let range = chunk * OpenFile.chunkSize ..< (chunk + 1) * OpenFile.chunkSize
                try readStored(file.content, block: index, range: range, into: UnsafeMutableRawBufferPointer(rebasing: dirty.bytes[range]))
                dirty.markLoaded(chunk)
            }
            let reference = try blocks.write(UnsafeRawBufferPointer(rebasing: dirty.bytes[0 ..< length]), durable: false,
                                             caching: file.shardCaching)
            file.dirtyBlocks[index] = nil
            try recordBlock(file, index: index, reference)
        }
    }

    /// Switches a file stored inline to blocks before its first block is recorded: the inline
    /// bytes become block 0, unless block 0 is in memory (dirty, or the block being sealed)
    /// and so already carries them.
    private func leaveInlineForm(_ file: OpenFile, rewriting index: Int? = nil) throws(VaultError) {
        guard case let .inline(bytes) = file.content else { return }
        // A dirty block 0 carries the inline bytes only in the chunks a write has loaded: a
        // write past the first chunk leaves chunk 0 unloaded. Load it now, while the content
        // is still inline; afterwards it would read as a hole.
        if index != 0, file.sealing[0] == nil, let dirty = file.dirtyBlocks[0] {
            for chunk in 0 ..< (bytes.count + OpenFile.chunkSize - 1) / OpenFile.chunkSize where !dirty.isLoaded(chunk) {
                let range = chunk * OpenFile.chunkSize ..< (chunk + 1) * OpenFile.chunkSize
                try readStored(file.content, block: 0, range: range, into: UnsafeMutableRawBufferPointer(rebasing: dirty.bytes[range]))
                dirty.markLoaded(chunk)
            }
        }
        let blockZeroInMemory = index == 0 || file.dirtyBlocks[0] != nil || file.sealing[0] != nil
        let first: [BlockReference?] = !bytes.isEmpty && !blockZeroInMemory ? [try store(bytes)] : []
        try record(file, content: .blocks(first))
    }

    /// Records one sealed block (one small record, however large the file) and frees the
    /// block it replaced once the record is durable.
    private func recordBlock(_ file: OpenFile, index: Int, _ block: BlockReference) throws(VaultError) {
        let size = file.size
        let replaced = try mutate { (namespace) throws(VaultError) in
            let (record, replaced) = try namespace.setBlock(file.inode, index: index, block, size: size, time: .now)
            return (replaced, [record])
        }
        file.content.setBlock(block, at: index)
        freeAfterDurable(replaced.map { [$0] } ?? [])
    }

    /// A copy of `block` cut to its first `length` bytes (truncation inside a block).
    private func rewrite(_ block: BlockReference, keeping length: Int) throws(VaultError) -> BlockReference {
        var bytes = [UInt8](repeating: 0, count: length)
        try bytes.withMutableVaultBytes { (raw) throws(VaultError) in try blocks.read(block, range: 0 ..< length, into: raw) }
        return try store(bytes)
    }

    private func store(_ bytes: [UInt8]) throws(VaultError) -> BlockReference {
        try bytes.withVaultBytes { (raw) throws(VaultError) in try blocks.write(raw, durable: false) }
    }

    /// Records the file's content and size; blocks no longer referenced are freed once the
    /// record is durable.
    private func record(_ file: OpenFile, content: FileContent) throws(VaultError) {
        let size = file.size
        let released = try mutate { (namespace) throws(VaultError) in
            let (record, released) = try namespace.setContent(file.inode, content, size: size, time: .now)
            return (released, [record])
        }
        file.content = content
        freeAfterDurable(released)
    }
}

/// An open file as the front doors hold it.
public struct FileHandle: Sendable {
    let file: OpenFile
    public var inode: InodeNumber { file.inode }
}

/// Who serves rereads of what is written through a handle; decides whether the volumes keep
/// the written shards in their cache (`ShardCaching`).
public enum RereadCache: Sendable {
    /// The volumes' cache (the host's page cache): S3 objects are often read right after
    /// their PUT.
    case volumes
    /// The caller's own cache: a FUSE mount keeps the plaintext in the kernel's page cache,
    /// so shards skip the host's cache (for a local volume: O_DIRECT writes).
    case caller
}
