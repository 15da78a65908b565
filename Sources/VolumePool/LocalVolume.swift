import CLinuxShims
import Foundation
import Synchronization

/// A volume that is a directory on a local filesystem.
///
/// Layout: `format.json`, `.lock` (flock'ed while a pool has the volume open),
/// `objects/XX/<32 hex>` committed shards fanned out by the first id byte, `tmp/` for
/// uploads in progress (`LocalShardUpload`) and `spare/` for removed shard files kept for
/// reuse (`SpareShardFiles`).
public final class LocalVolume: Volume, @unchecked Sendable {
    public let location: String
    private let objectsPath: String
    private let temporaryPath: String
    /// Held open until `close`; its flock keeps a second pool (or process) out.
    private let lockDescriptor: Int32
    public let filesystemID: UInt64?
    let directWrites = DirectWrites()
    private let spares: SpareShardFiles
    private let closed = Atomic<Bool>(false)

    /// Opens the volume at `path`, taking its lock. Clears uploads a previous process left behind.
    init(path: String) throws {
        location = path
        objectsPath = path + "/objects"
        temporaryPath = path + "/tmp"
        let lockPath = path + "/.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw VolumeIOError.lastError("open", lockPath) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            Glibc.close(fd)
            throw PoolError.volumeLocked(path: path)
        }
        lockDescriptor = fd
        var info = stat()
        filesystemID = fstat(fd, &info) == 0 ? UInt64(info.st_dev) : nil
        try Self.createLayout(at: path)
        spares = SpareShardFiles(directory: path + "/spare")
        removeAbandonedUploads()
    }

    deinit { close() }

    public func close() {
        guard !closed.exchange(true, ordering: .sequentiallyConsistent) else { return }
        Glibc.close(lockDescriptor)
    }

    /// Creates `objects/00…ff` and `tmp/`; fan-out directories exist up front so a commit
    /// never has to make (and fsync) a parent directory.
    static func createLayout(at path: String) throws {
        try FileOperations.makeDirectory(path + "/objects")
        try FileOperations.makeDirectory(path + "/tmp")
        try FileOperations.makeDirectory(path + "/spare")
        for byte in 0 ..< 256 {
            try FileOperations.makeDirectory(path + "/objects/" + Self.twoHexDigits(byte))
        }
    }

    public func createShard(_ id: ObjectID, caching: ShardCaching, expectedByteCount: Int?) throws(VolumeIOError) -> any ShardUpload {
        let temporary = temporaryPath + "/" + id.hex + "." + ObjectID.random().hex.prefix(8)
        let spare = spares.reuse(as: temporary, expectedByteCount: expectedByteCount, wantsContent: caching == .keep)
        let fd = spare != nil ? open(temporary, O_WRONLY | O_CLOEXEC)
            : open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .lastError("create", temporary) }
        var staleBytes = spare?.byteCount ?? 0
        // A direct write gains nothing from a warm spare's cached pages: start from empty.
        if caching == .bypass && staleBytes > 0 {
            guard ftruncate(fd, 0) == 0 else {
                let error = VolumeIOError.lastError("truncate", temporary)
                Glibc.close(fd)
                unlink(temporary)
                throw error
            }
            staleBytes = 0
        }
        return LocalShardUpload(descriptor: fd, temporaryPath: temporary,
                                finalDirectory: objectsPath + "/" + id.fanOutDirectory,
                                finalPath: shardPath(id), directWrites: caching == .bypass ? directWrites : nil,
                                staleByteCount: staleBytes)
    }

    public func openShard(_ id: ObjectID) throws(VolumeIOError) -> any ShardDownload {
        let path = shardPath(id)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .lastError("open", path) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = VolumeIOError.lastError("stat", path)
            Glibc.close(fd)
            throw error
        }
        return LocalShardDownload(descriptor: fd, path: path, byteCount: Int(info.st_size))
    }

    public func removeShard(_ id: ObjectID) throws(VolumeIOError) {
        let path = shardPath(id)
        if spares.keep(path) { return }
        if unlink(path) != 0 && errno != ENOENT { throw .lastError("unlink", path) }
    }

    public func forEachShard(_ body: (ObjectID) throws -> Void) throws {
        for byte in 0 ..< 256 {
            try FileOperations.forEachEntry(in: objectsPath + "/" + Self.twoHexDigits(byte), missingIsEmpty: true) { name in
                if let id = ObjectID(hex: name) { try body(id) }
            }
        }
    }

    public func sync() throws(VolumeIOError) {
        guard shardvault_syncfs(lockDescriptor) == 0 else { throw .lastError("syncfs", location) }
    }

    public func capacity() throws(VolumeIOError) -> VolumeCapacity {
        var info = statvfs()
        guard statvfs(location, &info) == 0 else { throw .lastError("statvfs", location) }
        return VolumeCapacity(totalBytes: Int(info.f_blocks) * Int(info.f_frsize),
                              availableBytes: Int(info.f_bavail) * Int(info.f_frsize))
    }

    func shardPath(_ id: ObjectID) -> String {
        objectsPath + "/" + id.fanOutDirectory + "/" + id.hex
    }

    private func removeAbandonedUploads() {
        try? FileOperations.forEachEntry(in: temporaryPath) { unlink(temporaryPath + "/" + $0) }
    }

    static func twoHexDigits(_ byte: Int) -> String {
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }
}

final class LocalShardDownload: ShardDownload {
    private let descriptor: Int32
    private let path: String
    let byteCount: Int

    init(descriptor: Int32, path: String, byteCount: Int) {
        self.descriptor = descriptor
        self.path = path
        self.byteCount = byteCount
    }

    deinit { close(descriptor) }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(VolumeIOError) {
        try FileOperations.readExactly(descriptor, into: buffer, at: offset, path: path)
    }

    /// Starts the kernel's asynchronous read of the range: the k shard files of a get are
    /// then read from the disk in parallel instead of one after another.
    func willRead(_ range: Range<Int>) {
        _ = posix_fadvise(descriptor, off_t(range.lowerBound), off_t(range.count), POSIX_FADV_WILLNEED)
    }
}
