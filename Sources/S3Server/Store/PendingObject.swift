import Vault

/// An object being written: a temporary file in the work area and its open handle. It
/// becomes visible only through `install`; until then a failure discards it and nothing a
/// client can see has changed.
final class PendingObject: @unchecked Sendable {
    let file: TemporaryFile
    private(set) var handle: FileHandle?
    private let store: ObjectStore

    init(store: ObjectStore) throws(S3Error) {
        self.store = store
        file = try store.makeTemporaryFile()
        do {
            handle = try store.vault.open(file.inode)
        } catch {
            store.discard(file)
            throw S3Error(error)
        }
    }

    var openHandle: FileHandle {
        get throws(S3Error) {
            guard let handle else { throw S3Error(.internalError, "the upload's file is already closed") }
            return handle
        }
    }

    /// Writes back what the handle buffered, closes it, and attaches metadata and ETag. The
    /// flush comes first and synchronously: the ETag is stamped with the size and mtime the
    /// content has once recorded (a close alone would leave that to write-behind, which
    /// records a later mtime and so would make the stored ETag look stale).
    func seal(metadata: ObjectMetadata, etag: String) throws(VaultError) {
        if let handle {
            self.handle = nil
            let flushed = Result { () throws(VaultError) in try store.vault.flush(handle) }
            try store.vault.release(handle)
            try flushed.get()
        }
        let vault = store.vault
        let attributes = try vault.attributes(file.inode)
        try metadata.store(vault, file.inode)
        try vault.setXattr(file.inode, StoredETag.attribute,
                           StoredETag(etag: etag, size: attributes.size, mtime: attributes.mtime).encoded)
    }

    /// Moves the sealed file to its key (parents made as needed). The answer to the client
    /// must wait for the returned durability (invariant I4: a completed PUT survives a crash).
    func install(bucket: InodeNumber, _ path: ObjectPath) throws(S3Error) -> PendingDurability {
        let directory = try store.makeDirectories(bucket, path.parents)
        try store.checkNotDirectory(directory, path.name)
        try store.install(file, at: directory, path.name)
        store.onChange(.inode(file.inode))
        return PendingDurability(store.vault)
    }

    /// Moves the sealed file into a directory of the work area (a multipart part); the answer
    /// must wait for the returned durability.
    func install(at directory: InodeNumber, _ name: String) throws(S3Error) -> PendingDurability {
        try store.install(file, at: directory, name)
        return PendingDurability(store.vault)
    }

    /// Gives up: closes the handle and removes the temporary file.
    func discard() {
        if let handle {
            self.handle = nil
            try? store.vault.release(handle)
        }
        store.discard(file)
    }
}
