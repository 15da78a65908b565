import CFuse3
import Glibc
import Vault

/// Names and attributes: lookup, getattr, setattr, and the operations that add, remove or
/// move names. All run to completion on the worker thread.
extension FuseFilesystem {
    /// renameat2 flags (linux/fs.h).
    static let renameNoReplace: UInt32 = 1
    static let renameExchange: UInt32 = 2
    /// File-type bits of a mode (S_IFMT and friends are ambiguous between Glibc and CFuse3).
    static let typeMask: UInt32 = 0o170000
    static let regularType: UInt32 = 0o100000
    static let fifoType: UInt32 = 0o010000

    /// The hottest path: with the operation arena on, the kernel's name bytes go straight to
    /// the vault (no String), which seals them into a per-thread buffer.
    func lookup(_ request: fuse_req_t, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) throws(VaultError) {
        let (inode, attributes): (InodeNumber, NodeAttributes)
        do {
            try refuseIfHidden(parent, name)
            if fastPaths.operationArena, let name {
                (inode, attributes) = try vault.lookup(parent, utf8: UnsafeRawBufferPointer(start: name, count: strlen(name)))
            } else {
                (inode, attributes) = try vault.lookup(parent, try KernelName.string(name))
            }
        } catch where error.code == .notFound {
            replyNoEntry(request)
            return
        }
        replyEntry(request, inode, attributes)
    }

    func getattr(_ request: fuse_req_t, _ inode: fuse_ino_t) throws(VaultError) {
        replyAttributes(request, inode, try vault.attributes(inode))
    }

    /// chmod, chown, utimensat (with UTIME_NOW/OMIT arriving as the *_NOW flags or absent
    /// bits), and truncate/ftruncate. The size goes first: if it fails nothing else changed.
    func setattr(_ request: fuse_req_t, _ inode: fuse_ino_t, _ wanted: UnsafeMutablePointer<stat>?,
                 _ toSet: Int32, _ file: UnsafeMutablePointer<fuse_file_info>?) throws(VaultError) {
        guard let wanted = wanted?.pointee else { throw VaultError(.invalidArgument, "setattr without attributes") }
        let set = { (flag: Int32) in toSet & flag != 0 }
        if set(FUSE_SET_ATTR_SIZE) {
            if options.readOnly { throw VaultError(.readOnly, "mounted read-only") }
            guard wanted.st_size >= 0 else { throw VaultError(.invalidArgument, "negative size") }
            try vault.truncate(inode, to: UInt64(wanted.st_size))
        }
        var changes = AttributeChanges()
        if set(FUSE_SET_ATTR_MODE) {
            changes.permissions = wanted.st_mode & 0o7777
        } else if set(FUSE_SET_ATTR_KILL_SUID) {
            // FATTR_KILL_SUIDGID (libfuse's name for the bit is older): a chown, or a truncate
            // by a caller without CAP_FSETID, under FUSE_HANDLE_KILLPRIV_V2.
            changes.permissions = try permissionsWithoutSetID(inode)
        }
        if set(FUSE_SET_ATTR_UID) { changes.uid = wanted.st_uid }
        if set(FUSE_SET_ATTR_GID) { changes.gid = wanted.st_gid }
        let now = Timestamp.now
        if set(FUSE_SET_ATTR_ATIME_NOW) {
            changes.atime = now
        } else if set(FUSE_SET_ATTR_ATIME) {
            changes.atime = StatConversion.timestamp(wanted.st_atim)
        }
        if set(FUSE_SET_ATTR_MTIME_NOW) {
            changes.mtime = now
        } else if set(FUSE_SET_ATTR_MTIME) {
            changes.mtime = StatConversion.timestamp(wanted.st_mtim)
        }
        // ctime alone (FUSE_SET_ATTR_CTIME, sent with the writeback cache) is not stored
        // separately: the vault sets ctime itself on every change.
        do {
            let attributes = changes == AttributeChanges() ? try vault.attributes(inode) : try vault.setAttributes(inode, changes)
            replyAttributes(request, inode, attributes)
        } catch where error.code == .notFound && toSet & ~Self.timeFlags == 0 {
            // With the writeback cache the kernel writes a file's times back with the inode —
            // syncfs does so for every dirty inode, including one unlinked and freed since. Its
            // times no longer matter, and ENOENT would fail the whole syncfs. Inode numbers are
            // never reused, so no other file is touched.
            var status = stat()
            status.st_ino = __ino_t(inode)
            status.st_mode = Self.regularType
            fuse_reply_attr(request, &status, 0)
        }
    }

    /// Clears the set-ID bits as the kernel's VFS would for a write or truncate by a caller
    /// without CAP_FSETID, when FUSE_HANDLE_KILLPRIV_V2 leaves it to the filesystem. Returns
    /// whether there were bits to clear.
    func dropSetIDBits(_ inode: fuse_ino_t) throws(VaultError) -> Bool {
        guard let kept = try permissionsWithoutSetID(inode) else { return false }
        _ = try vault.setAttributes(inode, AttributeChanges(permissions: kept))
        return true
    }

    /// `inode`'s permissions with set-user-ID cleared, and set-group-ID where group execute
    /// is set (without it the bit marks mandatory locking, not privilege); nil when that
    /// changes nothing.
    private func permissionsWithoutSetID(_ inode: fuse_ino_t) throws(VaultError) -> UInt32? {
        let setUserID: UInt32 = 0o4000, setGroupID: UInt32 = 0o2000, groupExecute: UInt32 = 0o0010
        let permissions = try vault.attributes(inode).permissions
        var kept = permissions & ~setUserID
        if kept & groupExecute != 0 { kept &= ~setGroupID }
        return kept == permissions ? nil : kept
    }

    /// The setattr flags that only change times (what the kernel's inode write-back sends).
    private static let timeFlags = FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_CTIME
        | FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW

    func mkdir(_ request: fuse_req_t, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ mode: mode_t) throws(VaultError) {
        try refuseCreatingHidden(parent, name)
        let caller = Self.caller(request)
        let (inode, attributes) = try vault.mkdir(parent, try KernelName.string(name), permissions: mode & 0o7777,
                                                  uid: caller.uid, gid: caller.gid)
        replyEntry(request, inode, attributes)
    }

    /// Regular files and FIFOs; device nodes and sockets are refused (EPERM) by the vault.
    func mknod(_ request: fuse_req_t, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ mode: mode_t) throws(VaultError) {
        try refuseCreatingHidden(parent, name)
        let kind: FileKind
        switch mode & Self.typeMask {
        case Self.regularType, 0: kind = .regular
        case Self.fifoType: kind = .fifo
        default: throw VaultError(.notPermitted, "only regular files and FIFOs can be created")
        }
        let caller = Self.caller(request)
        let (inode, attributes) = try vault.mknod(parent, try KernelName.string(name), kind: kind,
                                                  permissions: mode & 0o7777, uid: caller.uid, gid: caller.gid)
        replyEntry(request, inode, attributes)
    }

    func symlink(_ request: fuse_req_t, _ target: UnsafePointer<CChar>?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) throws(VaultError) {
        try refuseCreatingHidden(parent, name)
        let caller = Self.caller(request)
        let (inode, attributes) = try vault.symlink(parent, try KernelName.string(name), target: try KernelName.string(target),
                                                    uid: caller.uid, gid: caller.gid)
        replyEntry(request, inode, attributes)
    }

    func readlink(_ request: fuse_req_t, _ inode: fuse_ino_t) throws(VaultError) {
        let target = try vault.readlink(inode)
        fuse_reply_readlink(request, target)
    }

    func link(_ request: fuse_req_t, _ inode: fuse_ino_t, _ newParent: fuse_ino_t, _ newName: UnsafePointer<CChar>?) throws(VaultError) {
        try refuseCreatingHidden(newParent, newName)
        let attributes = try vault.link(inode, into: newParent, try KernelName.string(newName))
        replyEntry(request, inode, attributes)
    }

    func unlink(_ request: fuse_req_t, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) throws(VaultError) {
        try refuseIfHidden(parent, name)
        try vault.unlink(parent, try KernelName.string(name))
        Self.replyOK(request)
    }

    func rmdir(_ request: fuse_req_t, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) throws(VaultError) {
        try refuseIfHidden(parent, name)
        try vault.rmdir(parent, try KernelName.string(name))
        Self.replyOK(request)
    }

    func rename(_ request: fuse_req_t, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ newParent: fuse_ino_t,
                _ newName: UnsafePointer<CChar>?, _ flags: UInt32) throws(VaultError) {
        let mode: RenameMode
        switch flags {
        case 0: mode = .replace
        case Self.renameNoReplace: mode = .noReplace
        case Self.renameExchange: mode = .exchange
        default: throw VaultError(.invalidArgument, "unsupported rename flags \(flags)")  // e.g. RENAME_WHITEOUT
        }
        try refuseIfHidden(parent, name)
        try refuseCreatingHidden(newParent, newName)
        try vault.rename(parent, try KernelName.string(name), to: newParent, try KernelName.string(newName), mode: mode)
        Self.replyOK(request)
    }

    /// With default_permissions the kernel has already checked; otherwise the mode bits are
    /// checked here against the caller's uid and primary gid (root passes, except that
    /// execute needs some x bit, as in the kernel's own rule).
    func access(_ request: fuse_req_t, _ inode: fuse_ino_t, _ mask: Int32) throws(VaultError) {
        let attributes = options.reported(try vault.attributes(inode))
        if options.defaultPermissions || mask == F_OK { return Self.replyOK(request) }
        let caller = Self.caller(request)
        let permissions = attributes.permissions
        let granted: UInt32
        if caller.uid == 0 {
            granted = 0o6 | (permissions & 0o111 != 0 || attributes.kind == .directory ? 0o1 : 0)
        } else if caller.uid == attributes.uid {
            granted = (permissions >> 6) & 0o7
        } else if caller.gid == attributes.gid {
            granted = (permissions >> 3) & 0o7
        } else {
            granted = permissions & 0o7
        }
        guard UInt32(mask) & ~granted & 0o7 == 0 else { throw VaultError(.accessDenied, "permission denied") }
        Self.replyOK(request)
    }

    func statfs(_ request: fuse_req_t) {
        let statistics = vault.statistics()
        var result = statvfs()
        let blockSize = statistics.blockSize
        result.f_bsize = UInt(blockSize)
        result.f_frsize = UInt(blockSize)
        result.f_blocks = UInt(statistics.totalBytes / blockSize)
        result.f_bfree = UInt(statistics.availableBytes / blockSize)
        result.f_bavail = UInt(statistics.availableBytes / blockSize)
        // Inodes are not a limited resource: report the count used plus a large free count.
        result.f_files = UInt(statistics.files) + (1 << 32)
        result.f_ffree = 1 << 32
        result.f_favail = 1 << 32
        result.f_namemax = UInt(statistics.maximumNameBytes)
        fuse_reply_statfs(request, &result)
    }
}
