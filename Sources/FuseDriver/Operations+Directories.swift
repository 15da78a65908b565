import CFuse3
import Glibc
import Vault

/// Directory listing. Offsets are the vault's cookies (stable under concurrent changes);
/// "." and ".." take offsets 1 and 2, which is why the vault's cookies start at 3.
extension FuseFilesystem {
    static let dotOffset: off_t = 1
    static let dotDotOffset: off_t = 2

    /// Nothing to keep per open directory: a listing resumes from its cookie alone.
    func opendir(_ request: fuse_req_t, _ inode: fuse_ino_t, _ file: UnsafeMutablePointer<fuse_file_info>?) throws(VaultError) {
        let attributes = try vault.attributes(inode)
        guard attributes.kind == .directory else { throw VaultError(.notDirectory, "not a directory") }
        file?.pointee.fh = 0
        fuse_reply_open(request, file)
    }

    func readdir(_ request: fuse_req_t, _ inode: fuse_ino_t, _ size: Int, _ offset: off_t) throws(VaultError) {
        // Fetch a little more than can fit: an entry needs at least 32 bytes of dirent.
        let limit = max(1, size / 32)
        let cookie = offset <= Self.dotDotOffset ? 0 : UInt64(offset)
        let entries = try vault.readdir(inode, after: cookie, limit: limit)
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
        defer { buffer.deallocate() }
        var used = 0
        var status = Glibc.stat()

        /// Appends one entry; false when it does not fit (it is then sent in the next call).
        func add(_ name: String, inode: InodeNumber, mode: UInt32, next: off_t) -> Bool {
            status.st_ino = UInt(inode)
            status.st_mode = mode
            let needed = fuse_add_direntry(request, buffer + used, size - used, name, &status, next)
            guard needed <= size - used else { return false }
            used += needed
            return true
        }

        if offset < Self.dotOffset, !add(".", inode: inode, mode: FileKind.directory.modeBits, next: Self.dotOffset) {
            return send(request, buffer, used)
        }
        let parent = (try? vault.parent(ofDirectory: inode)) ?? inode
        if offset < Self.dotDotOffset, !add("..", inode: parent, mode: FileKind.directory.modeBits, next: Self.dotDotOffset) {
            return send(request, buffer, used)
        }
        for entry in entries {
            guard add(entry.name, inode: entry.inode, mode: entry.kind.modeBits, next: off_t(entry.cookie)) else { break }
        }
        send(request, buffer, used)
    }

    private func send(_ request: fuse_req_t, _ buffer: UnsafeMutablePointer<CChar>, _ count: Int) {
        fuse_reply_buf(request, buffer, count)
    }

    func releasedir(_ request: fuse_req_t) {
        Self.replyOK(request)
    }

    /// Directory changes are journalled with the namespace; fsync of a directory waits for it.
    func fsyncdir(_ request: fuse_req_t) throws(VaultError) {
        try vault.sync()
        Self.replyOK(request)
    }
}
