/// Validated mutations. Each checks POSIX rules, then applies exactly one record.
extension Namespace {
    public static let maximumLinks: UInt32 = 65000

    @discardableResult
    public func create(in parent: InodeNumber, name: SealedName, kind: FileKind, permissions: UInt32,
                       uid: UInt32, gid: UInt32, time: Timestamp, symlinkTarget: [UInt8]? = nil,
                       symlinkLength: UInt64 = 0) throws(VaultError) -> (InodeNumber, NamespaceRecord) {
        let (parentNode, contents) = try directory(parent)
        guard contents[name] == nil else { throw VaultError(.exists, "entry already exists in directory \(parent)") }
        if kind == .directory && parentNode.attributes.nlink >= Self.maximumLinks {
            throw VaultError(.tooManyLinks, "directory \(parent) has too many subdirectories")
        }
        let record = NamespaceRecord.create(.init(
            parent: parent, name: name, inode: nextInode, kind: kind, permissions: permissions & 0o7777,
            uid: uid, gid: gid, time: time, directoryID: kind == .directory ? .random() : nil,
            symlinkTarget: kind == .symlink ? symlinkTarget : nil, symlinkLength: kind == .symlink ? symlinkLength : 0))
        apply(record)
        return (nextInode - 1, record)
    }

    @discardableResult
    public func link(_ inode: InodeNumber, into parent: InodeNumber, name: SealedName,
                     time: Timestamp) throws(VaultError) -> NamespaceRecord {
        let target = try node(inode)
        guard !target.isDirectory else { throw VaultError(.notPermitted, "hard links to directories are not allowed") }
        guard target.attributes.nlink > 0 else { throw VaultError(.notFound, "inode \(inode) was unlinked") }
        guard target.attributes.nlink < Self.maximumLinks else { throw VaultError(.tooManyLinks, "inode \(inode) has too many links") }
        guard try directory(parent).contents[name] == nil else {
            throw VaultError(.exists, "entry already exists in directory \(parent)")
        }
        return applied(.link(inode: inode, parent: parent, name: name, time: time))
    }

    /// Removes a non-directory entry. Returns the record and the content to free (nil while
    /// other links or open handles keep the inode alive).
    @discardableResult
    public func unlink(_ parent: InodeNumber, name: SealedName, time: Timestamp) throws(VaultError) -> (NamespaceRecord, FileContent?) {
        let child = try lookup(parent, name)
        guard !nodes[child]!.isDirectory else { throw VaultError(.isDirectory, "entry is a directory; use rmdir") }
        let record = NamespaceRecord.unlink(parent: parent, name: name, time: time)
        return (record, apply(record))
    }

    @discardableResult
    public func rmdir(_ parent: InodeNumber, name: SealedName, time: Timestamp) throws(VaultError) -> NamespaceRecord {
        let child = try lookup(parent, name)
        guard let contents = nodes[child]!.directory else { throw VaultError(.notDirectory, "entry is not a directory") }
        guard contents.isEmpty else { throw VaultError(.notEmpty, "directory \(child) is not empty") }
        return applied(.unlink(parent: parent, name: name, time: time))
    }

    /// rename / renameat2. Returns the record and the content of a replaced inode to free.
    @discardableResult
    public func rename(_ fromParent: InodeNumber, _ fromName: SealedName, to toParent: InodeNumber, _ toName: SealedName,
                       mode: RenameMode = .replace, time: Timestamp) throws(VaultError) -> (NamespaceRecord, FileContent?) {
        let source = try lookup(fromParent, fromName)
        let (_, destination) = try directory(toParent)
        let target = destination[toName]
        let sourceNode = nodes[source]!
        if sourceNode.isDirectory && isAncestor(source, of: toParent) {
            throw VaultError(.invalidArgument, "cannot move directory \(source) into its own subtree")
        }
        switch mode {
        case .exchange:
            guard let target else { throw VaultError(.notFound, "exchange target does not exist") }
            if nodes[target]!.isDirectory && isAncestor(target, of: fromParent) {
                throw VaultError(.invalidArgument, "cannot move directory \(target) into its own subtree")
            }
        case .noReplace:
            if target != nil { throw VaultError(.exists, "rename target exists") }
        case .replace:
            if let target {
                if target == source { return (.rename(from: fromParent, fromName: fromName, to: toParent, toName: toName,
                                                      mode: mode, time: time), nil) }
                let targetNode = nodes[target]!
                if sourceNode.isDirectory && !targetNode.isDirectory {
                    throw VaultError(.notDirectory, "cannot replace a non-directory with a directory")
                }
                if !sourceNode.isDirectory && targetNode.isDirectory {
                    throw VaultError(.isDirectory, "cannot replace a directory with a non-directory")
                }
                if let contents = targetNode.directory, !contents.isEmpty {
                    throw VaultError(.notEmpty, "target directory \(target) is not empty")
                }
            }
        }
        if sourceNode.isDirectory && fromParent != toParent && (target == nil || mode == .exchange)
            && nodes[toParent]!.attributes.nlink >= Self.maximumLinks {
            throw VaultError(.tooManyLinks, "directory \(toParent) has too many subdirectories")
        }
        let record = NamespaceRecord.rename(from: fromParent, fromName: fromName, to: toParent, toName: toName,
                                            mode: mode, time: time)
        return (record, apply(record))
    }

    @discardableResult
    public func setAttributes(_ inode: InodeNumber, _ changes: AttributeChanges, time: Timestamp) throws(VaultError) -> NamespaceRecord {
        _ = try node(inode)
        guard changes.size == nil else { throw VaultError(.invalidArgument, "size changes go through setContent") }
        return applied(.setAttributes(inode: inode, changes: changes, time: time))
    }

    /// Replaces a regular file's content and size. Returns the record and the blocks the old
    /// content referenced that the new one does not (to free once the record is durable).
    @discardableResult
    public func setContent(_ inode: InodeNumber, _ content: FileContent, size: UInt64,
                           time: Timestamp) throws(VaultError) -> (NamespaceRecord, [BlockReference]) {
        let old = try self.content(inode)
        let record = NamespaceRecord.setContent(inode: inode, content: content, size: size, time: time)
        apply(record)
        let kept = Set(content.blockIDs)
        var released: [BlockReference] = []
        if case let .blocks(slots) = old {
            for case let block? in slots where !kept.contains(block.id) { released.append(block) }
        }
        return (record, released)
    }

    /// Sets one block slot of a file already stored as blocks, and its size. Returns the
    /// record and the block it replaced (to free once the record is durable).
    @discardableResult
    public func setBlock(_ inode: InodeNumber, index: Int, _ block: BlockReference?, size: UInt64,
                         time: Timestamp) throws(VaultError) -> (NamespaceRecord, BlockReference?) {
        guard case let .blocks(slots) = try content(inode) else {
            throw VaultError(.invalidArgument, "inode \(inode) is stored inline; set its whole content instead")
        }
        let replaced = index < slots.count ? slots[index] : nil
        let record = NamespaceRecord.setBlock(inode: inode, index: index, block: block, size: size, time: time)
        apply(record)
        return (record, replaced?.id == block?.id ? nil : replaced)
    }

    @discardableResult
    public func setXattr(_ inode: InodeNumber, _ name: String, _ value: [UInt8], time: Timestamp) throws(VaultError) -> NamespaceRecord {
        _ = try node(inode)
        return applied(.setXattr(inode: inode, name: name, value: value, time: time))
    }

    @discardableResult
    public func removeXattr(_ inode: InodeNumber, _ name: String, time: Timestamp) throws(VaultError) -> NamespaceRecord {
        _ = try xattr(inode, name)
        return applied(.removeXattr(inode: inode, name: name, time: time))
    }

    /// The last handle of `inode` closed. Returns the record and the content to free when the
    /// inode had no links left (then the inode is gone).
    public func release(_ inode: InodeNumber) -> (NamespaceRecord, FileContent)? {
        guard let node = nodes[inode], node.attributes.nlink == 0 else { return nil }
        let content = node.content
        apply(.release(inode: inode))
        return (.release(inode: inode), content)
    }

    /// Forgets unlinked inodes no handle holds any more — after a remount, every one of them.
    /// Returns their contents, whose blocks nothing else references.
    public func removeOrphans() -> [FileContent] {
        let orphans = nodes.filter { !$0.value.isDirectory && $0.value.attributes.nlink == 0 && !isOpen($0.key) }
        for inode in orphans.keys { nodes[inode] = nil }
        return orphans.values.map(\.content)
    }

    private func applied(_ record: NamespaceRecord) -> NamespaceRecord {
        apply(record)
        return record
    }
}
