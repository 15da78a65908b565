import Vault

/// What the S3 door changed in the vault, reported to the host right after the change so a
/// FUSE door in the same process can drop what the kernel caches (docs/S3.md, "One daemon,
/// two doors").
public enum VaultChange: Sendable, Equatable {
    /// The entry `name` of directory `parent` was created or replaced (or renamed away):
    /// fuse_lowlevel_notify_inval_entry(parent, name).
    case entry(parent: InodeNumber, name: String)
    /// The entry `name` of `parent`, which was `inode`, was removed (a file unlinked, an
    /// empty directory removed): fuse_lowlevel_notify_delete(parent, inode, name).
    case removed(parent: InodeNumber, name: String, inode: InodeNumber)
    /// The content or attributes of `inode` changed: fuse_lowlevel_notify_inval_inode(inode).
    case inode(InodeNumber)
}

/// Called on a vault thread after each change; it must not block for long.
public typealias VaultChangeHandler = @Sendable (VaultChange) -> Void

/// The host's side of the S3 door's changes: a FUSE mount of the same vault, whose kernel
/// caches must not outlive them (DESIGN.md I5).
public protocol VaultChangeObserver: Sendable {
    /// Called on a vault thread right after each change, while the request runs; it must not
    /// block (queue the work: libfuse's notifications must not be sent from just anywhere).
    func vaultChanged(_ change: VaultChange)
    /// Returns once everything reported so far has taken effect. The S3 door awaits it before
    /// answering a request that may have changed something, so a client that gets its answer
    /// finds the change visible through the mount.
    func changesApplied() async
}
