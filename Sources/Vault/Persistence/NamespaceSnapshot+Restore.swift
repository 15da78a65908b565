/// Loading a checkpoint body. The bytes come out of an AEAD, so they are what we wrote — but
/// a writer bug, or a format mismatch, must surface as an error at mount, not as a trap on
/// the first `readdir` an hour later. Hence: decode everything, then check the tree's shape
/// (see `validate`) before anyone can query it.
extension Namespace {
    public convenience init(snapshot bytes: [UInt8]) throws(FormatDecodingError) {
        var reader = BinaryReader(bytes)
        let decoded = try Self.decodeSnapshot(from: &reader)
        try reader.expectEnd("the snapshot's last node")
        try Self.validate(decoded)
        self.init(restoring: decoded.nodes, nextInode: decoded.nextInode)
    }

    /// What decoding learns on the way, so validation need not walk the table again for it.
    private struct DecodedSnapshot {
        var nodes: [InodeNumber: Node]
        var nextInode: InodeNumber
        var highestInode: InodeNumber
        var directoryCount: Int
    }

    private static func decodeSnapshot(from reader: inout BinaryReader) throws(FormatDecodingError) -> DecodedSnapshot {
        let magic = try reader.readRaw(NamespaceSnapshotFormat.magic.count)
        guard magic == NamespaceSnapshotFormat.magic else { throw .malformed("not a namespace snapshot (bad magic)") }
        let version = try reader.readUInt8()
        guard (1 ... NamespaceSnapshotFormat.version).contains(version) else {
            throw .unsupportedVersion(what: "namespace snapshot", found: version, supported: NamespaceSnapshotFormat.version)
        }
        let nextInode = try reader.readInode()
        let count = try reader.readLength("node count")
        // The smallest node (no optional parts, not a directory) is 16 bytes.
        try reader.checkCount(count, minimumSize: 16, "snapshot nodes")
        var nodes: [InodeNumber: Node] = [:]
        nodes.reserveCapacity(count)
        var inode: InodeNumber = 0
        var directoryCount = 0
        for _ in 0 ..< count {
            let deltaStart = reader.position
            let delta = try reader.readVarint()
            let (next, overflow) = inode.addingReportingOverflow(delta)
            guard delta > 0, !overflow else {
                throw .malformed("inode numbers must strictly increase (delta \(delta) at \(deltaStart))")
            }
            inode = next
            let node = try readNode(inode, from: &reader)
            if node.isDirectory { directoryCount += 1 }
            nodes[inode] = node
        }
        return DecodedSnapshot(nodes: nodes, nextInode: nextInode, highestInode: inode, directoryCount: directoryCount)
    }

    private static func readNode(_ inode: InodeNumber, from reader: inout BinaryReader) throws(FormatDecodingError) -> Node {
        let kind = try reader.readKind()
        let partsStart = reader.position
        let parts = try reader.readUInt8()
        guard parts & ~NamespaceSnapshotFormat.NodePart.all == 0 else {
            throw .malformed("inode \(inode): unknown node parts \(parts) at \(partsStart)")
        }
        let permissions = try reader.readVarintUInt32("permissions")
        let uid = try reader.readVarintUInt32("uid")
        let gid = try reader.readVarintUInt32("gid")
        let nlink = try reader.readVarintUInt32("nlink")
        let size = try reader.readVarint()
        let atime = try reader.readTimestamp()
        let mtime = atime &+ (try reader.readSignedVarint())
        let ctime = atime &+ (try reader.readSignedVarint())
        let attributes = NodeAttributes(kind: kind, permissions: permissions, uid: uid, gid: gid, nlink: nlink,
                                        size: size, atime: atime, mtime: mtime, ctime: ctime)
        let symlinkTarget = parts & NamespaceSnapshotFormat.NodePart.symlinkTarget != 0 ? try reader.readBytes() : nil
        let content = parts & NamespaceSnapshotFormat.NodePart.content != 0 ? try reader.readContent() : .empty
        let xattrs = parts & NamespaceSnapshotFormat.NodePart.xattrs != 0 ? try readXattrs(of: inode, from: &reader) : [:]
        let node = Node(attributes: attributes, parent: 0, symlinkTarget: symlinkTarget, content: content, xattrs: xattrs)
        if kind == .directory {
            node.parent = try reader.readInode()
            node.directory = try readDirectory(inode, from: &reader)
        }
        return node
    }

    private static func readXattrs(of inode: InodeNumber,
                                   from reader: inout BinaryReader) throws(FormatDecodingError) -> [String: [UInt8]] {
        let count = try reader.readLength("xattr count")
        try reader.checkCount(count, minimumSize: 2, "xattrs of inode \(inode)")
        var xattrs: [String: [UInt8]] = [:]
        xattrs.reserveCapacity(count)
        for _ in 0 ..< count {
            let name = try reader.readString()
            guard xattrs.updateValue(try reader.readBytes(), forKey: name) == nil else {
                throw .malformed("inode \(inode) has xattr \(name) twice")
            }
        }
        return xattrs
    }

    private static func readDirectory(_ inode: InodeNumber,
                                      from reader: inout BinaryReader) throws(FormatDecodingError) -> DirectoryContents {
        var contents = DirectoryContents(id: try reader.readDirectoryID())
        let nextCookie = try reader.readVarint()
        guard nextCookie > NamespaceSnapshotFormat.cookieBase else {
            throw .malformed("directory \(inode): next cookie \(nextCookie) collides with \".\" or \"..\"")
        }
        let count = try reader.readLength("child count")
        // A child is at least a cookie delta, an inode and an empty name: 3 bytes.
        try reader.checkCount(count, minimumSize: 3, "children of directory \(inode)")
        contents.reserveCapacity(count)
        var cookie = NamespaceSnapshotFormat.cookieBase
        for _ in 0 ..< count {
            let deltaStart = reader.position
            let delta = try reader.readVarint()
            // Cookies strictly increase (readdir binary-searches them) and stay below the
            // directory's next cookie (so none is ever handed out twice).
            guard delta > 0, delta < nextCookie - cookie else {
                throw .malformed("directory \(inode): cookie delta \(delta) at \(deltaStart) out of order or past next cookie \(nextCookie)")
            }
            cookie += delta
            let child = try reader.readInode()
            guard contents.restore(try reader.readName(), inode: child, cookie: cookie) else {
                throw .malformed("directory \(inode) holds one name twice")
            }
        }
        contents.restore(nextCookie: nextCookie)
        return contents
    }

    /// The checks that make every query and every later `apply` on the restored tree safe:
    /// the root is a directory that is its own parent; every entry names an existing inode;
    /// every directory other than the root is reachable from it through exactly one entry,
    /// in the directory its ".." names; link counts match the entries (plus "." and ".."
    /// for directories); no inode is at or past `nextInode`. Files with no entry are allowed
    /// only with nlink 0: unlinked but still open when the snapshot was taken.
    ///
    /// One pass over the entries, one over the nodes. A non-directory's `parent` field means
    /// nothing (it is only ".." for directories), so it counts that file's entries meanwhile
    /// instead of a million-entry side table, and is reset to 0 afterwards.
    private static func validate(_ decoded: DecodedSnapshot) throws(FormatDecodingError) {
        let nodes = decoded.nodes
        guard decoded.highestInode < decoded.nextInode else {
            throw .inconsistent("inode \(decoded.highestInode) is not below next inode \(decoded.nextInode)")
        }
        guard let root = nodes[rootInode], let rootContents = root.directory else {
            throw .inconsistent("the root inode \(rootInode) is missing or not a directory")
        }
        guard root.parent == rootInode else { throw .inconsistent("the root's parent is \(root.parent), not itself") }

        var reached: Set<InodeNumber> = [rootInode]
        var pending: [(inode: InodeNumber, node: Node, contents: DirectoryContents)] = [(rootInode, root, rootContents)]
        while let next = pending.popLast() {
            let directory = next.inode
            var subdirectories: UInt32 = 0
            // Hash order is fine here: only counts and parent links are checked.
            for child in next.contents.children.values {
                guard let childNode = nodes[child.inode] else {
                    throw .inconsistent("directory \(directory) has an entry for missing inode \(child.inode)")
                }
                guard let childContents = childNode.directory else {
                    childNode.parent += 1
                    continue
                }
                guard childNode.parent == directory, reached.insert(child.inode).inserted else {
                    throw .inconsistent("directory \(child.inode) is entered from \(directory) but its parent is \(childNode.parent) or it has several entries")
                }
                subdirectories += 1
                pending.append((child.inode, childNode, childContents))
            }
            guard next.node.attributes.nlink == 2 + subdirectories else {
                throw .inconsistent("directory \(directory) has nlink \(next.node.attributes.nlink) but \(subdirectories) subdirectories")
            }
        }
        guard reached.count == decoded.directoryCount else {
            throw .inconsistent("\(decoded.directoryCount - reached.count) directories cannot be reached from the root")
        }
        for (inode, node) in nodes where !node.isDirectory {
            let entries = node.parent
            node.parent = 0
            guard UInt64(node.attributes.nlink) == entries else {
                throw .inconsistent("inode \(inode) has nlink \(node.attributes.nlink) but \(entries) entries")
            }
        }
    }
}
