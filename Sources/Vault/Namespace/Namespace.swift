import VaultCrypto

/// The whole file tree in memory: inodes by number and, per directory, children by sealed
/// name. Not thread-safe: the vault serialises access.
///
/// Public mutations validate with POSIX rules (and errno-shaped errors), then build a
/// `NamespaceRecord`, hand it to `apply`, and return it for the journal.
public final class Namespace {
    public static let rootInode: InodeNumber = 1

    var nodes: [InodeNumber: Node] = [:]
    public internal(set) var nextInode: InodeNumber = 2
    /// Whether an inode still has open handles; unlinked open inodes are kept until `release`.
    public var isOpen: (InodeNumber) -> Bool = { _ in false }

    /// An empty tree: the root directory only.
    public init(rootID: DirectoryID, permissions: UInt32 = 0o755, uid: UInt32 = 0, gid: UInt32 = 0, time: Timestamp) {
        let attributes = NodeAttributes(kind: .directory, permissions: permissions, uid: uid, gid: gid, nlink: 2,
                                        size: 0, atime: time, mtime: time, ctime: time)
        nodes[Self.rootInode] = Node(attributes: attributes, parent: Self.rootInode,
                                     directory: DirectoryContents(id: rootID))
    }

    init(restoring nodes: [InodeNumber: Node], nextInode: InodeNumber) {
        self.nodes = nodes
        self.nextInode = nextInode
    }

    public var inodeCount: Int { nodes.count }

    // MARK: Queries

    public func attributes(_ inode: InodeNumber) throws(VaultError) -> NodeAttributes {
        try node(inode).attributes
    }

    public func lookup(_ parent: InodeNumber, _ name: SealedName) throws(VaultError) -> InodeNumber {
        guard let child = try directory(parent).contents[name] else {
            // A literal: most lookups that fail are a create's probe, and formatting the
            // directory's number into the message was a measurable part of them.
            throw VaultError(.notFound, "no such entry")
        }
        return child
    }

    public func directoryID(_ inode: InodeNumber) throws(VaultError) -> DirectoryID {
        try directory(inode).contents.id
    }

    /// The parent of a directory ("..").
    public func parent(ofDirectory inode: InodeNumber) throws(VaultError) -> InodeNumber {
        try directory(inode).node.parent
    }

    public func readdir(_ inode: InodeNumber, after cookie: UInt64, limit: Int = .max) throws(VaultError) -> [DirectoryEntry] {
        let contents = try directory(inode).contents
        return contents.entries(after: cookie, limit: limit).map { entry in
            DirectoryEntry(cookie: entry.cookie, name: entry.name, inode: entry.inode,
                           kind: nodes[entry.inode]!.attributes.kind)
        }
    }

    /// Visits the entries of `inode` after `cookie` with their attributes, in cookie order,
    /// until `visit` returns false.
    func forEachEntry(_ inode: InodeNumber, after cookie: UInt64,
                      _ visit: (UInt64, SealedName, InodeNumber, NodeAttributes) throws(VaultError) -> Bool) throws(VaultError) {
        try directory(inode).contents.forEachEntry(after: cookie) { (cookie, name, child) throws(VaultError) in
            guard let node = nodes[child] else { return true }
            return try visit(cookie, name, child, node.attributes)
        }
    }

    public func symlinkTarget(_ inode: InodeNumber) throws(VaultError) -> [UInt8] {
        guard let target = try node(inode).symlinkTarget else {
            throw VaultError(.invalidArgument, "inode \(inode) is not a symlink")
        }
        return target
    }

    public func content(_ inode: InodeNumber) throws(VaultError) -> FileContent {
        let node = try node(inode)
        guard node.attributes.kind == .regular else {
            throw VaultError(node.isDirectory ? .isDirectory : .invalidArgument, "inode \(inode) is not a regular file")
        }
        return node.content
    }

    public func xattr(_ inode: InodeNumber, _ name: String) throws(VaultError) -> [UInt8] {
        guard let value = try node(inode).xattrs[name] else {
            throw VaultError(.noAttribute, "inode \(inode) has no attribute \(name)")
        }
        return value
    }

    public func xattrNames(_ inode: InodeNumber) throws(VaultError) -> [String] {
        try node(inode).xattrs.keys.sorted()
    }

    /// Whether `ancestor` is `inode` or one of its ancestors.
    func isAncestor(_ ancestor: InodeNumber, of inode: InodeNumber) -> Bool {
        var current = inode
        while true {
            if current == ancestor { return true }
            guard let node = nodes[current], current != Self.rootInode else { return false }
            current = node.parent
        }
    }

    func node(_ inode: InodeNumber) throws(VaultError) -> Node {
        guard let node = nodes[inode] else { throw VaultError(.notFound, "inode \(inode) does not exist") }
        return node
    }

    func directory(_ inode: InodeNumber) throws(VaultError) -> (node: Node, contents: DirectoryContents) {
        let node = try node(inode)
        guard let contents = node.directory else { throw VaultError(.notDirectory, "inode \(inode) is not a directory") }
        return (node, contents)
    }
}
