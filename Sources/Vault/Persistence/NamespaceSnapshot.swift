/// The checkpoint body: the whole namespace as one byte string (docs/FORMAT-vault.md,
/// "Snapshot"). Restoring it (`Namespace(snapshot:)`, NamespaceSnapshot+Restore.swift) gives
/// a tree with the same inodes, attributes, contents, xattrs and readdir cookies, so a
/// client paging through a directory across a remount resumes where it was.
enum NamespaceSnapshotFormat {
    /// "SVNS": tells a snapshot from any other plaintext the journal layer might hand us.
    static let magic: [UInt8] = [0x53, 0x56, 0x4E, 0x53]
    /// Version 2 added packed block references, version 3 compact ones; older snapshots read
    /// the same way.
    static let version: UInt8 = 3
    /// Cookies 1 and 2 are "." and ".."; the first child cookie is 3, and cookie deltas
    /// are taken from this base.
    static let cookieBase: UInt64 = 2
    /// Rough bytes per entry, to reserve the output once (measured ≈ 50 with 20-byte names).
    static let estimatedBytesPerNode = 64

    /// Which optional parts of a node follow its attributes.
    enum NodePart {
        static let symlinkTarget: UInt8 = 1 << 0
        static let content: UInt8 = 1 << 1
        static let xattrs: UInt8 = 1 << 2
        static let all: UInt8 = 0b111
    }
}

extension Namespace {
    /// Every node in increasing inode order, each followed (for directories) by its
    /// children in cookie order. Deterministic: equal trees give equal bytes.
    public func snapshot() -> [UInt8] {
        var writer = BinaryWriter(reservingCapacity: 32 + nodes.count * NamespaceSnapshotFormat.estimatedBytesPerNode)
        writer.writeRaw(NamespaceSnapshotFormat.magic)
        writer.writeUInt8(NamespaceSnapshotFormat.version)
        writer.writeInode(nextInode)
        writer.writeVarint(nodes.count)
        // Increasing order lets inode numbers be written as small deltas.
        let ordered = nodes.sorted { $0.key < $1.key }
        var previousInode: InodeNumber = 0
        for (inode, node) in ordered {
            writer.writeVarint(inode - previousInode)
            previousInode = inode
            Self.write(node, into: &writer)
        }
        return writer.bytes
    }

    private static func write(_ node: Node, into writer: inout BinaryWriter) {
        let attributes = node.attributes
        writer.writeKind(attributes.kind)
        var parts: UInt8 = 0
        if node.symlinkTarget != nil { parts |= NamespaceSnapshotFormat.NodePart.symlinkTarget }
        if node.content != .empty { parts |= NamespaceSnapshotFormat.NodePart.content }
        if !node.xattrs.isEmpty { parts |= NamespaceSnapshotFormat.NodePart.xattrs }
        writer.writeUInt8(parts)
        writer.writeVarint(attributes.permissions)
        writer.writeVarint(attributes.uid)
        writer.writeVarint(attributes.gid)
        writer.writeVarint(attributes.nlink)
        writer.writeVarint(attributes.size)
        // mtime and ctime are usually equal or close to atime: deltas take a byte or two.
        writer.writeTimestamp(attributes.atime)
        writer.writeSignedVarint(attributes.mtime &- attributes.atime)
        writer.writeSignedVarint(attributes.ctime &- attributes.atime)
        if let target = node.symlinkTarget { writer.writeBytes(target) }
        if parts & NamespaceSnapshotFormat.NodePart.content != 0 { writer.writeContent(node.content) }
        if !node.xattrs.isEmpty {
            writer.writeVarint(node.xattrs.count)
            for (name, value) in node.xattrs.sorted(by: { $0.key < $1.key }) {
                writer.writeString(name)
                writer.writeBytes(value)
            }
        }
        if let directory = node.directory { write(directory, parent: node.parent, into: &writer) }
    }

    private static func write(_ directory: DirectoryContents, parent: InodeNumber, into writer: inout BinaryWriter) {
        writer.writeInode(parent)
        writer.writeDirectoryID(directory.id)
        writer.writeVarint(directory.nextCookie)
        let children = directory.orderedChildren
        writer.writeVarint(children.count)
        var previousCookie = NamespaceSnapshotFormat.cookieBase
        for child in children {
            writer.writeVarint(child.cookie - previousCookie)
            previousCookie = child.cookie
            writer.writeInode(child.inode)
            writer.writeName(child.name)
        }
    }
}
