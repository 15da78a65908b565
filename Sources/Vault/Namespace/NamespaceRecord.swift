import VaultCrypto

/// One namespace mutation, exactly as it is journaled. `Namespace.apply` is the only code
/// that changes the tree, for live operations and for journal replay alike, so what is
/// replayed after a crash is what happened before it.
public enum NamespaceRecord: Equatable, Sendable {
    case create(Creation)
    case link(inode: InodeNumber, parent: InodeNumber, name: SealedName, time: Timestamp)
    case unlink(parent: InodeNumber, name: SealedName, time: Timestamp)
    case rename(from: InodeNumber, fromName: SealedName, to: InodeNumber, toName: SealedName,
                mode: RenameMode, time: Timestamp)
    case setAttributes(inode: InodeNumber, changes: AttributeChanges, time: Timestamp)
    case setContent(inode: InodeNumber, content: FileContent, size: UInt64, time: Timestamp)
    /// One block slot of a file stored as blocks, and the file's size: what sealing a block
    /// records, so a large file's journal grows by one small record per block instead of by
    /// its whole block list each time.
    case setBlock(inode: InodeNumber, index: Int, block: BlockReference?, size: UInt64, time: Timestamp)
    case setXattr(inode: InodeNumber, name: String, value: [UInt8], time: Timestamp)
    case removeXattr(inode: InodeNumber, name: String, time: Timestamp)
    /// The last handle of an unlinked inode closed: forget it.
    case release(inode: InodeNumber)

    public struct Creation: Equatable, Sendable {
        public var parent: InodeNumber
        public var name: SealedName
        public var inode: InodeNumber
        public var kind: FileKind
        public var permissions: UInt32
        public var uid: UInt32
        public var gid: UInt32
        public var time: Timestamp
        /// Directories only.
        public var directoryID: DirectoryID?
        /// Symlinks only: the sealed target and its plaintext length (st_size).
        public var symlinkTarget: [UInt8]?
        public var symlinkLength: UInt64
    }
}
