/// One place that stores shards: a local directory today, a bucket on a remote object store
/// later. The API therefore avoids what object stores lack: no rename across volumes, no
/// in-place rewrites, and appends are only used while a new shard is being uploaded.
public protocol Volume: AnyObject, Sendable {
    /// Where the volume lives, for messages (a path or URL).
    var location: String { get }

    /// Starts writing a new shard; it becomes visible under `id` only on `commit`.
    /// `expectedByteCount`: the shard file's size when known, a hint for choosing storage.
    func createShard(_ id: ObjectID, caching: ShardCaching, expectedByteCount: Int?) throws(VolumeIOError) -> any ShardUpload
    /// Opens the committed shard of `id`; throws with code ENOENT when there is none.
    func openShard(_ id: ObjectID) throws(VolumeIOError) -> any ShardDownload
    /// Removes the shard of `id`; succeeds when there was none.
    func removeShard(_ id: ObjectID) throws(VolumeIOError)
    /// Calls `body` with the id of every committed shard on this volume.
    func forEachShard(_ body: (ObjectID) throws -> Void) throws
    /// Makes every committed shard durable (one flush for many deferred-durability puts).
    /// For a local volume this flushes its whole filesystem, including other volumes on it.
    func sync() throws(VolumeIOError)
    /// Volumes with the same id share the filesystem `sync` flushes, so one `sync` serves
    /// them all (six directories of one disk need one flush, not six). nil: unknown, synced
    /// on its own.
    var filesystemID: UInt64? { get }
    /// Total and available bytes.
    func capacity() throws(VolumeIOError) -> VolumeCapacity
    /// Lets go of the volume (its lock, connections); later calls fail.
    func close()
}

extension Volume {
    public var filesystemID: UInt64? { nil }
}

/// Whether a volume should keep a shard it writes in its cache (for a local volume, the page
/// cache) for reads that may follow soon.
public enum ShardCaching: Sendable {
    /// Keep it: S3 objects and metadata are often read right after they are written.
    case keep
    /// Skip the cache: the writer caches the plaintext itself (a FUSE mount's page cache),
    /// so caching the ciphertext too would cost a copy and memory for nothing.
    case bypass
}

public struct VolumeCapacity: Sendable, Equatable {
    public var totalBytes: Int
    public var availableBytes: Int
}

/// A shard being written. Appends in order; `commit` publishes it atomically.
public protocol ShardUpload: AnyObject {
    func append(_ bytes: UnsafeRawBufferPointer) throws(VolumeIOError)
    /// Publishes the shard; with `durable` it is on stable storage when this returns.
    func commit(durable: Bool) throws(VolumeIOError)
    /// Discards everything written; safe to call after a failure and more than once.
    func abort()
}

/// A committed shard opened for positional reads.
public protocol ShardDownload: AnyObject {
    var byteCount: Int { get }
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(VolumeIOError)
    /// A hint that `range` will be read soon, so the volume can start fetching it while the
    /// pool reads other shards. Optional: the default does nothing.
    func willRead(_ range: Range<Int>)
}

extension ShardDownload {
    public func willRead(_ range: Range<Int>) {}
}
