import CLinuxShims
import Glibc
import Synchronization

/// A shard being written into a local volume's `tmp/`, renamed into `objects/` on commit so a
/// crash never leaves a half shard under a final name.
///
/// With `ShardCaching.bypass`, page-aligned appends (every full stripe's chunk: 256 KiB with
/// the default geometry, from the pool's 4096-aligned stripe buffers) go through a second
/// descriptor opened with O_DIRECT: the bytes go from our buffer to the disk instead of being
/// copied into the page cache first, which was the largest cost of a stream write
/// (docs/FORMAT-pool.md, "Direct writes"). The unaligned rest (the last stripe's chunk,
/// checksum table, trailer) is written through the page cache; the ranges never share a page.
/// With `.keep`, large appends are buffered and their writeback starts at once. Durability is
/// unchanged either way: only the commit's fsync/syncfs makes a shard durable.
///
/// The file may be a warm spare (`SpareShardFiles`) still holding a removed shard's bytes:
/// appends overwrite them in place, and the old bytes past the new shard's end are cut off
/// before the commit publishes it. Not earlier: cutting at offset 0 would free (and, on a
/// `discard` mount, discard) every block the spare was kept for. The cost: an append that
/// covers part of a page the kernel no longer caches reads that page first — at most the few
/// tail pages of a shard (last chunk, checksum table, trailer), and spares are mostly shards
/// removed moments ago, whose pages are cached.
final class LocalShardUpload: ShardUpload {
    private var descriptor: Int32
    private var directDescriptor: Int32 = -1
    private var offset = 0
    /// The end of a reused spare's old content (0 once cut off, and for a new file).
    private var staleEnd: Int
    /// nil: everything goes through the page cache (`ShardCaching.keep`).
    private let directWrites: DirectWrites?
    private let temporaryPath: String
    private let finalDirectory: String
    private let finalPath: String

    init(descriptor: Int32, temporaryPath: String, finalDirectory: String, finalPath: String,
         directWrites: DirectWrites?, staleByteCount: Int = 0) {
        self.descriptor = descriptor
        staleEnd = staleByteCount
        self.temporaryPath = temporaryPath
        self.finalDirectory = finalDirectory
        self.finalPath = finalPath
        self.directWrites = directWrites
    }

    deinit { abort() }

    func append(_ bytes: UnsafeRawBufferPointer) throws(VolumeIOError) {
        if DirectWrites.isAligned(bytes, at: offset), appendDirectly(bytes) {
            offset += bytes.count
            return
        }
        try FileOperations.writeAll(descriptor, bytes, at: offset, path: temporaryPath)
        // A large object's pages start for the disk now, while the rest of it arrives, instead
        // of all at the commit's flush; they stay cached for reads. Small shards wait for it.
        if bytes.count >= Self.earlyWritebackBytes {
            _ = shardvault_start_writeback(descriptor, Int64(offset), Int64(bytes.count))
        }
        offset += bytes.count
    }

    /// Appends at least this large are sent to the disk at once (`sync_file_range`).
    static let earlyWritebackBytes = 64 << 10

    /// True when the bytes were written with O_DIRECT. False when the filesystem refuses
    /// direct I/O (tmpfs, some FUSE filesystems; the volume then stops trying) or the write
    /// failed: the caller writes them through the page cache.
    private func appendDirectly(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let directWrites, directWrites.enabled else { return false }
        if directDescriptor < 0 {
            directDescriptor = shardvault_open_direct_for_writing(temporaryPath)
            guard directDescriptor >= 0 else {
                directWrites.setEnabled(false)
                return false
            }
        }
        do {
            try FileOperations.writeAll(directDescriptor, bytes, at: offset, path: temporaryPath)
            return true
        } catch {
            // EINVAL: an alignment the device does not accept. Any failed direct write is
            // redone whole through the page cache, which reports real I/O errors.
            if error.code == EINVAL { directWrites.setEnabled(false) }
            return false
        }
    }

    /// Ends the file at what this upload wrote: a reused spare's old bytes beyond are dropped.
    private func cutStaleContent() throws(VolumeIOError) {
        guard ftruncate(descriptor, off_t(offset)) == 0 else { throw .lastError("truncate", temporaryPath) }
        staleEnd = 0
    }

    func commit(durable: Bool) throws(VolumeIOError) {
        if staleEnd > offset { try cutStaleContent() }
        if durable { try FileOperations.fsync(descriptor, path: temporaryPath) }
        closeDescriptors()
        guard rename(temporaryPath, finalPath) == 0 else {
            let error = VolumeIOError.lastError("rename", finalPath)
            unlink(temporaryPath)
            throw error
        }
        if durable { try FileOperations.fsyncDirectory(finalDirectory) }
    }

    func abort() {
        guard descriptor >= 0 else { return }
        closeDescriptors()
        unlink(temporaryPath)
    }

    private func closeDescriptors() {
        close(descriptor)
        descriptor = -1
        if directDescriptor >= 0 { close(directDescriptor) }
        directDescriptor = -1
    }
}

/// Whether a volume writes aligned shard chunks with O_DIRECT: on unless switched off
/// (`SHARDVAULT_DIRECT_WRITES=off`, to measure the difference), and off for good once the
/// filesystem refuses it.
final class DirectWrites: Sendable {
    private let state: Atomic<Bool>

    init(enabled: Bool = EnvironmentSwitch.isOn("SHARDVAULT_DIRECT_WRITES")) {
        state = Atomic(enabled)
    }

    var enabled: Bool { state.load(ordering: .relaxed) }

    /// Off for good when the filesystem refuses direct I/O; tests switch it either way.
    func setEnabled(_ enabled: Bool) { state.store(enabled, ordering: .relaxed) }

    static let alignment = 4096

    static func isAligned(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return false }
        return offset % alignment == 0 && bytes.count % alignment == 0 && Int(bitPattern: base) % alignment == 0
    }
}
