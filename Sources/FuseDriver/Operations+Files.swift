import Buffers
import CFuse3
import Glibc
import Vault

/// Open files: create, open, read, write, flush, fsync, release.
extension FuseFilesystem {
    /// O_CREAT on a name the kernel believed absent. If another process created it in
    /// between, a plain O_CREAT opens the existing file (and O_TRUNC empties it), as POSIX says.
    func create(_ request: fuse_req_t, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ mode: mode_t,
                _ file: UnsafeMutablePointer<fuse_file_info>?) throws(VaultError) {
        guard let file else { throw VaultError(.invalidArgument, "create without file info") }
        try refuseCreatingHidden(parent, name)
        let flags = file.pointee.flags
        let plainName = try KernelName.string(name)
        let caller = Self.caller(request)
        var inode: InodeNumber
        var attributes: NodeAttributes
        do {
            (inode, attributes) = try vault.mknod(parent, plainName, kind: .regular, permissions: mode & 0o7777,
                                                  uid: caller.uid, gid: caller.gid)
        } catch where error.code == .exists && flags & O_EXCL == 0 {
            (inode, attributes) = try vault.lookup(parent, plainName)
            if attributes.kind == .directory { throw VaultError(.isDirectory, "\(plainName) is a directory") }
            if flags & O_TRUNC != 0 {
                try vault.truncate(inode, to: 0)
                attributes = try vault.attributes(inode)
            }
        }
        let handle = try vault.open(inode, rereads: .caller)
        OpenFileBox.attach(handle, appends: appendsThemselves(flags), to: file)
        var entry = entry(inode, attributes)
        if fuse_reply_create(request, &entry, file) != 0 {
            // The opener was interrupted: the kernel will never release this handle.
            try? vault.release(try OpenFileBox.detach(file).handle)
        }
    }

    func open(_ request: fuse_req_t, _ inode: fuse_ino_t, _ file: UnsafeMutablePointer<fuse_file_info>?) throws(VaultError) {
        guard let file else { throw VaultError(.invalidArgument, "open without file info") }
        let attributes = try vault.attributes(inode)
        switch attributes.kind {
        case .directory: throw VaultError(.isDirectory, "is a directory")
        case .symlink: throw VaultError(.invalidArgument, "cannot open a symlink")  // the kernel follows links itself
        case .regular, .fifo: break
        }
        let handle = try vault.open(inode, rereads: .caller)
        OpenFileBox.attach(handle, appends: appendsThemselves(file.pointee.flags), to: file)
        // Pages cached by an earlier open stay valid: contents change only through this mount
        // or through the S3 door, which replaces whole files (a new inode, with the old name
        // invalidated) and has KernelCacheNotifier drop an inode's pages whenever it changes one.
        file.pointee.keep_cache = 1
        if fuse_reply_open(request, file) != 0 {
            try? vault.release(try OpenFileBox.detach(file).handle)
        }
    }

    /// With the writeback cache the kernel turns O_APPEND into offsets itself; without it,
    /// the offset of an appending write is ours to choose.
    private func appendsThemselves(_ flags: Int32) -> Bool {
        flags & O_APPEND != 0 && !writebackCacheEnabled.load(ordering: .acquiring)
    }

    func read(_ request: fuse_req_t, _ size: Int, _ offset: off_t, _ file: UnsafeMutablePointer<fuse_file_info>?) throws(VaultError) {
        let box = try OpenFileBox.borrow(file)
        guard offset >= 0 else { throw VaultError(.invalidArgument, "negative offset") }
        guard fastPaths.bufferPools else {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 16)
            defer { buffer.deallocate() }
            return try readAndReply(request, box, offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<size]))
        }
        // A pooled buffer (returned when this scope ends), so steady-state reads do not malloc.
        let buffer = SizeClassPool.shared.take(capacity: max(size, 1))
        try readAndReply(request, box, offset, into: UnsafeMutableRawBufferPointer(start: buffer.baseAddress, count: size))
    }

    private func readAndReply(_ request: fuse_req_t, _ box: OpenFileBox, _ offset: off_t,
                              into buffer: UnsafeMutableRawBufferPointer) throws(VaultError) {
        let count = try vault.read(box.handle, at: UInt64(offset), into: buffer)
        fuse_reply_buf(request, buffer.baseAddress?.assumingMemoryBound(to: CChar.self), count)
    }

    func write(_ request: fuse_req_t, _ bytes: UnsafePointer<CChar>?, _ size: Int, _ offset: off_t,
               _ file: UnsafeMutablePointer<fuse_file_info>?) throws(VaultError) {
        let box = try OpenFileBox.borrow(file)
        if options.readOnly { throw VaultError(.readOnly, "mounted read-only") }
        guard offset >= 0 else { throw VaultError(.invalidArgument, "negative offset") }
        let position = box.appends ? vault.size(of: box.handle) : UInt64(offset)
        try vault.write(box.handle, at: position, UnsafeRawBufferPointer(start: bytes, count: size))
        fuse_reply_write(request, size)
    }

    /// close(2) of one descriptor: reports a write-back failure already known for the file.
    /// The data itself is written back after the last close (write-behind); fsync and syncfs
    /// are where durability and its errors are promised. With `FastPaths.skipsFlush` only
    /// the mount's first close gets here, and its ENOSYS stops the kernel from sending more.
    func flush(_ request: fuse_req_t, _ file: UnsafeMutablePointer<fuse_file_info>?) throws(VaultError) {
        if fastPaths.skipsFlush {
            fuse_reply_err(request, ENOSYS)
            return
        }
        if let failure = vault.takeWriteBackFailure(try OpenFileBox.borrow(file).handle) { throw failure }
        Self.replyOK(request)
    }

    /// fsync and fdatasync both wait for the journal: the size is metadata fdatasync must keep.
    func fsync(_ request: fuse_req_t, _ file: UnsafeMutablePointer<fuse_file_info>?) throws(VaultError) {
        releases?.drain()
        try vault.fsync(try OpenFileBox.borrow(file).handle)
        Self.replyOK(request)
    }

    /// The last close of an open file; the kernel ignores the result, but the handle is
    /// released whatever happens — a small file's after the reply, on the release thread
    /// (`DeferredReleases`).
    func release(_ request: fuse_req_t, _ file: UnsafeMutablePointer<fuse_file_info>?) throws(VaultError) {
        let box = try OpenFileBox.detach(file)
        let handle = box.handle
        if let releases, vault.size(of: handle) <= DeferredReleases.largestDeferredFile {
            releases.add { [vault] in try? vault.release(handle) }
        } else {
            try vault.release(handle)
        }
        Self.replyOK(request)
    }
}
