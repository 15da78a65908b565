import Vault

/// What the S3 door changed in the vault, reported to the host right after the change so a
/// FUSE door in the same process can drop what the kernel caches (docs/S3.md, "Seams").
public enum VaultChange: Sendable, Equatable {
    /// The entry `name` of directory `parent` was created, replaced, renamed away or removed:
    /// fuse_lowlevel_notify_inval_entry(parent, name).
    case entry(parent: InodeNumber, name: String)
    /// The content or attributes of `inode` changed: fuse_lowlevel_notify_inval_inode(inode).
    case inode(InodeNumber)
}

/// Called on a vault thread after each change; it must not block for long.
public typealias VaultChangeHandler = @Sendable (VaultChange) -> Void
