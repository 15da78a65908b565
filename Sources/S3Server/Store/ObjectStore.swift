import Glibc
import Vault

/// Buckets, keys and temporary files as vault paths. Every method blocks (it calls the
/// vault) and runs on the `VaultExecutor`. Buckets are the root's directories; the hidden
/// work area (temporary uploads, multipart parts) is a root directory whose name is no valid
/// bucket name, so it can never be addressed as one.
final class ObjectStore: Sendable {
    let vault: Vault
    let onChange: VaultChangeHandler
    static let root = Namespace.rootInode
    /// Holds uploads in progress; not a valid bucket name (starts with "."), hidden from ListBuckets.
    static let workAreaName = ".shardvault-s3"
    static let temporaryDirectoryName = "tmp"
    static let uploadsDirectoryName = "uploads"

    let uid = getuid()
    let gid = getgid()
    static let filePermissions: UInt32 = 0o644
    static let directoryPermissions: UInt32 = 0o755

    init(vault: Vault, onChange: @escaping VaultChangeHandler) {
        self.vault = vault
        self.onChange = onChange
    }

    // MARK: Buckets

    func bucket(_ name: String) throws(S3Error) -> InodeNumber {
        guard !name.isEmpty, name != Self.workAreaName, !name.contains("/") else {
            throw S3Error(.noSuchBucket, "the bucket \"\(name)\" does not exist")
        }
        do {
            let (inode, attributes) = try vault.lookup(Self.root, name)
            guard attributes.kind == .directory else { throw S3Error(.noSuchBucket, "\"\(name)\" is a file, not a bucket") }
            return inode
        } catch let error as VaultError {
            throw S3Error(error, missing: .noSuchBucket)
        } catch {
            throw S3Error.from(error)
        }
    }

    func listBuckets() throws(VaultError) -> [(name: String, created: Timestamp)] {
        try vault.readdir(Self.root, after: 0).filter { $0.kind == .directory && $0.name != Self.workAreaName }
            .map { entry throws(VaultError) in (entry.name, try vault.attributes(entry.inode).ctime) }
            .sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    func createBucket(_ name: String) throws(S3Error) {
        try BucketName.validate(name)
        do {
            _ = try vault.mkdir(Self.root, name, permissions: Self.directoryPermissions, uid: uid, gid: gid)
            onChange(.entry(parent: Self.root, name: name))
        } catch where error.code == .exists {
            throw S3Error(.bucketAlreadyOwnedByYou, "the bucket \"\(name)\" already exists (or a file of that name is at the vault's root)")
        } catch {
            throw S3Error(error)
        }
    }

    /// Removes a bucket holding no objects. Directories left behind by deleted objects do not
    /// count as content (S3 has no directories), so an "empty" tree of them goes too.
    func deleteBucket(_ name: String) throws(S3Error) {
        let inode = try bucket(name)
        do {
            guard try onlyDirectories(below: inode) else {
                throw S3Error(.bucketNotEmpty, "the bucket \"\(name)\" holds objects; delete them first")
            }
            try removeEmptyTree(inode)
            try vault.rmdir(Self.root, name)
            onChange(.removed(parent: Self.root, name: name, inode: inode))
        } catch let error as S3Error {
            throw error
        } catch let error as VaultError {
            throw error.code == .notEmpty ? S3Error(.bucketNotEmpty, "the bucket \"\(name)\" is not empty") : S3Error(error)
        } catch {
            throw S3Error.from(error)
        }
    }

    private func onlyDirectories(below directory: InodeNumber) throws(VaultError) -> Bool {
        for entry in try vault.readdir(directory, after: 0) {
            guard entry.kind == .directory, try onlyDirectories(below: entry.inode) else { return false }
        }
        return true
    }

    private func removeEmptyTree(_ directory: InodeNumber) throws(VaultError) {
        for entry in try vault.readdir(directory, after: 0) {
            try removeEmptyTree(entry.inode)
            try vault.rmdir(directory, entry.name)
            onChange(.removed(parent: directory, name: entry.name, inode: entry.inode))
        }
    }

    // MARK: Keys

    /// The node a key names, or nil when there is none (a missing component, or a path
    /// through a file). A key ending in "/" names only a directory, any other only a file.
    func resolve(_ bucket: InodeNumber, _ path: ObjectPath) throws(VaultError) -> (InodeNumber, NodeAttributes)? {
        var current = bucket
        var attributes: NodeAttributes?
        for component in path.components {
            do {
                (current, attributes) = try vault.lookup(current, component)
            } catch where error.code == .notFound || error.code == .notDirectory {
                return nil
            }
        }
        guard let attributes else { return nil }
        let wanted: FileKind = path.isDirectory ? .directory : .regular
        return attributes.kind == wanted ? (current, attributes) : nil
    }

    /// The directory `components` below `bucket`, made (with its parents) where missing.
    func makeDirectories(_ bucket: InodeNumber, _ components: some Collection<String>) throws(S3Error) -> InodeNumber {
        var current = bucket
        for component in components {
            do {
                let (inode, attributes) = try vault.lookup(current, component)
                guard attributes.kind == .directory else {
                    throw S3Error(.parentIsObject, "\"\(component)\" is an object, so no key can continue below it")
                }
                current = inode
            } catch let error as VaultError where error.code == .notFound {
                do {
                    let parent = current
                    current = try vault.mkdir(parent, component, permissions: Self.directoryPermissions, uid: uid, gid: gid).0
                    onChange(.entry(parent: parent, name: component))
                } catch where error.code == .exists {
                    current = try mustBeDirectory(current, component)  // made meanwhile by someone else
                } catch {
                    throw S3Error.from(error)
                }
            } catch {
                throw S3Error.from(error)
            }
        }
        return current
    }

    private func mustBeDirectory(_ parent: InodeNumber, _ name: String) throws(S3Error) -> InodeNumber {
        do {
            let (inode, attributes) = try vault.lookup(parent, name)
            guard attributes.kind == .directory else { throw S3Error(.parentIsObject, "\"\(name)\" is an object") }
            return inode
        } catch {
            throw S3Error.from(error)
        }
    }

    /// Refuses to put an object where a directory is (409 ObjectExistsAsDirectory).
    func checkNotDirectory(_ parent: InodeNumber, _ name: String) throws(S3Error) {
        do {
            let (_, attributes) = try vault.lookup(parent, name)
            if attributes.kind == .directory {
                throw S3Error(.objectExistsAsDirectory, "the key names a directory (it has keys below it); an object cannot replace it")
            }
        } catch let error as VaultError where error.code == .notFound {
            return
        } catch {
            throw S3Error.from(error)
        }
    }

    /// Removes the file a key names. Missing keys are not an error (S3 deletes are idempotent).
    /// A directory key ("a/") removes the directory when it is empty and is otherwise left,
    /// since its keys still imply it.
    func delete(_ bucket: InodeNumber, _ path: ObjectPath) throws(S3Error) {
        do {
            guard let (inode, _) = try resolve(bucket, path) else { return }
            let directory = try containingDirectory(bucket, path)
            if path.isDirectory {
                do {
                    try vault.rmdir(directory, path.name)
                } catch where error.code == .notEmpty {
                    return
                }
            } else {
                try vault.unlink(directory, path.name)
            }
            onChange(.removed(parent: directory, name: path.name, inode: inode))
        } catch where error.code == .notFound {
            return
        } catch {
            throw S3Error.from(error)
        }
    }

    /// The directory holding the last component of `path` (which must exist).
    func containingDirectory(_ bucket: InodeNumber, _ path: ObjectPath) throws(VaultError) -> InodeNumber {
        var current = bucket
        for component in path.parents { current = try vault.lookup(current, component).0 }
        return current
    }

    // MARK: The work area

    /// A directory of the hidden work area, made when missing.
    func workDirectory(_ name: String) throws(S3Error) -> InodeNumber {
        let area = try makeDirectories(Self.root, [Self.workAreaName])
        return try makeDirectories(area, [name])
    }

    /// A new empty file in the work area's tmp/ directory, where nothing lists it.
    func makeTemporaryFile() throws(S3Error) -> TemporaryFile {
        let directory = try workDirectory(Self.temporaryDirectoryName)
        let name = "put-" + Hex.encode((0 ..< 12).map { _ in UInt8.random(in: 0 ... 255) })
        do {
            let (inode, _) = try vault.mknod(directory, name, kind: .regular, permissions: Self.filePermissions, uid: uid, gid: gid)
            return TemporaryFile(directory: directory, name: name, inode: inode)
        } catch {
            throw S3Error(error)
        }
    }

    /// Moves a finished temporary file to its key, atomically replacing an older object.
    func install(_ file: TemporaryFile, at directory: InodeNumber, _ name: String) throws(S3Error) {
        do {
            try vault.rename(file.directory, file.name, to: directory, name, mode: .replace)
            onChange(.entry(parent: directory, name: name))
        } catch where error.code == .isDirectory || error.code == .notEmpty || error.code == .notDirectory {
            throw S3Error(.objectExistsAsDirectory, "the key names a directory (it has keys below it); an object cannot replace it")
        } catch {
            throw S3Error(error)
        }
    }

    func discard(_ file: TemporaryFile) {
        try? vault.unlink(file.directory, file.name)
    }

    /// Removes temporary files left by a crash or a killed daemon (nothing references them).
    func removeStaleTemporaryFiles() {
        guard let area = try? vault.lookup(Self.root, Self.workAreaName).0,
              let directory = try? vault.lookup(area, Self.temporaryDirectoryName).0,
              let entries = try? vault.readdir(directory, after: 0) else { return }
        for entry in entries where entry.kind == .regular {
            try? vault.unlink(directory, entry.name)
        }
    }
}

/// An upload's file before it is moved to its key.
struct TemporaryFile: Sendable {
    let directory: InodeNumber
    let name: String
    let inode: InodeNumber
}
