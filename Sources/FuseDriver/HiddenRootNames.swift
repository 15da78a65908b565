import CFuse3
import Glibc
import Vault

/// Names at the vault's root that belong to the daemon rather than to users: the S3 door's
/// work area (`/.shardvault-s3`: uploads in progress, multipart parts). Through the mount they
/// do not exist — lookup answers ENOENT and readdir skips them — and nothing may be created
/// or renamed onto them (EPERM), so neither a stray `rm -rf` nor a `mv` can break an upload
/// the S3 door is receiving. docs/S3.md, "The work area and the mount".
struct HiddenRootNames: Sendable {
    /// UTF-8 bytes of each name, compared with the kernel's bytes without making Strings.
    private let names: [[UInt8]]

    init(_ names: [String]) {
        self.names = names.map { Array($0.utf8) }
    }

    var isEmpty: Bool { names.isEmpty }

    /// Whether `name` (as the kernel passes it) in directory `parent` is hidden.
    func contains(_ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) -> Bool {
        guard parent == Namespace.rootInode, !names.isEmpty, let name else { return false }
        return contains(UnsafeRawBufferPointer(start: name, count: strlen(name)))
    }

    /// Whether the root entry named by `bytes` is hidden.
    func contains(_ bytes: UnsafeRawBufferPointer) -> Bool {
        names.contains { $0.count == bytes.count && $0.elementsEqual(bytes) }
    }

    func contains(_ name: String) -> Bool {
        names.contains { $0.elementsEqual(name.utf8) }
    }
}

extension FuseFilesystem {
    /// A request naming a hidden root entry as an existing one (lookup, unlink, rmdir, the
    /// source of a rename): it is not there.
    func refuseIfHidden(_ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) throws(VaultError) {
        if hiddenRootNames.contains(parent, name) { throw VaultError(.notFound, "no such file or directory") }
    }

    /// A request that would create a hidden root entry, or rename something onto it.
    func refuseCreatingHidden(_ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) throws(VaultError) {
        if hiddenRootNames.contains(parent, name) {
            throw VaultError(.notPermitted, "this name is reserved for the daemon's S3 work area")
        }
    }
}
