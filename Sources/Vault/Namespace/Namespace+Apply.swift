/// The one place the tree changes. Records reaching here were validated when first made; on
/// replay they are applied to the same state they were made against, with one difference:
/// replay has no open handles, so an unlinked file that was still open disappears at its
/// unlink instead of at its release. Records that later touch such an inode (writes flushed
/// after the unlink, the release) find it gone and are skipped.
/// Returns the content of an inode that stopped existing, for its blocks to be freed.
extension Namespace {
    @discardableResult
    public func apply(_ record: NamespaceRecord) -> FileContent? {
        switch record {
        case let .create(creation):
            applyCreate(creation)
            return nil
        case let .link(inode, parent, name, time):
            let node = nodes[inode]!
            node.attributes.nlink += 1
            node.attributes.ctime = time
            nodes[parent]!.directory!.insert(name, inode: inode)
            touchDirectory(parent, time)
            return nil
        case let .unlink(parent, name, time):
            let child = nodes[parent]!.directory!.remove(name)!
            touchDirectory(parent, time)
            return dropLink(child, from: parent, time: time)
        case let .rename(from, fromName, to, toName, mode, time):
            return applyRename(from, fromName, to, toName, mode, time)
        case let .setAttributes(inode, changes, time):
            guard let node = nodes[inode] else { return nil }
            if let permissions = changes.permissions { node.attributes.permissions = permissions & 0o7777 }
            if let uid = changes.uid { node.attributes.uid = uid }
            if let gid = changes.gid { node.attributes.gid = gid }
            if let atime = changes.atime { node.attributes.atime = atime }
            if let mtime = changes.mtime { node.attributes.mtime = mtime }
            node.attributes.ctime = time
            return nil
        case let .setContent(inode, content, size, time):
            guard let node = nodes[inode] else { return nil }
            node.content = content
            node.attributes.size = size
            node.attributes.mtime = time
            node.attributes.ctime = time
            return nil
        case let .setBlock(inode, index, block, size, time):
            guard let node = nodes[inode] else { return nil }
            node.content.setBlock(block, at: index)
            node.attributes.size = size
            node.attributes.mtime = time
            node.attributes.ctime = time
            return nil
        case let .setXattr(inode, name, value, time):
            guard let node = nodes[inode] else { return nil }
            node.xattrs[name] = value
            node.attributes.ctime = time
            return nil
        case let .removeXattr(inode, name, time):
            guard let node = nodes[inode] else { return nil }
            node.xattrs[name] = nil
            node.attributes.ctime = time
            return nil
        case let .release(inode):
            guard let node = nodes[inode], node.attributes.nlink == 0 else { return nil }
            nodes[inode] = nil
            return node.content
        }
    }

    private func applyCreate(_ creation: NamespaceRecord.Creation) {
        let isDirectory = creation.kind == .directory
        let attributes = NodeAttributes(
            kind: creation.kind, permissions: creation.permissions, uid: creation.uid, gid: creation.gid,
            nlink: isDirectory ? 2 : 1, size: creation.kind == .symlink ? creation.symlinkLength : 0,
            atime: creation.time, mtime: creation.time, ctime: creation.time)
        nodes[creation.inode] = Node(attributes: attributes, parent: creation.parent,
                                     directory: creation.directoryID.map(DirectoryContents.init(id:)),
                                     symlinkTarget: creation.symlinkTarget)
        nodes[creation.parent]!.directory!.insert(creation.name, inode: creation.inode)
        if isDirectory { nodes[creation.parent]!.attributes.nlink += 1 }
        touchDirectory(creation.parent, creation.time)
        nextInode = max(nextInode, creation.inode + 1)
    }

    private func applyRename(_ from: InodeNumber, _ fromName: SealedName, _ to: InodeNumber, _ toName: SealedName,
                             _ mode: RenameMode, _ time: Timestamp) -> FileContent? {
        let source = nodes[from]!.directory![fromName]!
        let target = nodes[to]!.directory![toName]
        if target == source { return nil }
        touchDirectory(from, time)
        touchDirectory(to, time)
        nodes[source]!.attributes.ctime = time
        if mode == .exchange, let target {
            nodes[from]!.directory!.repoint(fromName, to: target)
            nodes[to]!.directory!.repoint(toName, to: source)
            nodes[target]!.attributes.ctime = time
            reparent(source, from: from, to: to)
            reparent(target, from: to, to: from)
            return nil
        }
        nodes[from]!.directory!.remove(fromName)
        var freed: FileContent?
        if let target {
            nodes[to]!.directory!.repoint(toName, to: source)
            freed = dropLink(target, from: to, time: time)
        } else {
            nodes[to]!.directory!.insert(toName, inode: source)
        }
        reparent(source, from: from, to: to)
        return freed
    }

    /// A directory moved between parents: fix its ".." and both parents' link counts.
    private func reparent(_ inode: InodeNumber, from: InodeNumber, to: InodeNumber) {
        guard from != to, let node = nodes[inode], node.isDirectory else { return }
        node.parent = to
        nodes[from]!.attributes.nlink -= 1
        nodes[to]!.attributes.nlink += 1
    }

    /// One name of `inode` is gone. Directories disappear; other inodes when their last link
    /// goes and no handle holds them open.
    private func dropLink(_ inode: InodeNumber, from parent: InodeNumber, time: Timestamp) -> FileContent? {
        let node = nodes[inode]!
        node.attributes.ctime = time
        if node.isDirectory {
            nodes[parent]!.attributes.nlink -= 1
            node.attributes.nlink = 0
            nodes[inode] = nil
            return nil
        }
        node.attributes.nlink -= 1
        guard node.attributes.nlink == 0, !isOpen(inode) else { return nil }
        nodes[inode] = nil
        return node.content
    }

    private func touchDirectory(_ inode: InodeNumber, _ time: Timestamp) {
        nodes[inode]!.attributes.mtime = time
        nodes[inode]!.attributes.ctime = time
    }
}
