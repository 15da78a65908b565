import Buffers
import CFuse3
import Glibc
import Vault

/// Directory listing, plain and "plus" (entries with their attributes, so `ls -l` needs no
/// lookup per name). Offsets are the vault's cookies (stable under concurrent changes);
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

    /// One reply of up to `size` bytes. With the operation arena, the reply and every
    /// decrypted name live in this worker's arena, reset once the reply is sent: no
    /// allocation per entry or per call. Without it (measurement only) names are Strings
    /// and the reply buffer is malloc'ed.
    func readdir(_ request: fuse_req_t, _ inode: fuse_ino_t, _ size: Int, _ offset: off_t, plus: Bool) throws(VaultError) {
        let arena = BumpArena.currentThread
        defer { arena.reset() }
        let useArena = fastPaths.operationArena
        let storage = useArena ? arena.allocate(byteCount: size) : .allocate(byteCount: size, alignment: 16)
        defer { if !useArena { storage.deallocate() } }
        var reply = DirectoryReply(request: request, storage: storage, plus: plus, filesystem: self)

        if offset < Self.dotOffset, !reply.addDot(".", inode: inode, next: Self.dotOffset) {
            return reply.send()
        }
        if offset < Self.dotDotOffset {
            let parent = (try? vault.parent(ofDirectory: inode)) ?? inode
            if !reply.addDot("..", inode: parent, next: Self.dotDotOffset) { return reply.send() }
        }
        let cookie = offset <= Self.dotDotOffset ? 0 : UInt64(offset)
        let hidesNames = inode == Namespace.rootInode && !hiddenRootNames.isEmpty
        if useArena {
            // One byte more than the longest name, for the NUL libfuse's name argument needs.
            let scratch = arena.allocate(byteCount: Vault.nameScratchBytes + 1)
            try vault.visitEntries(inode, after: cookie, nameScratch: scratch) { entry in
                if hidesNames && hiddenRootNames.contains(entry.name) { return true }
                scratch[entry.name.count] = 0
                return reply.add(name: scratch.baseAddress!.assumingMemoryBound(to: CChar.self), inode: entry.inode,
                                 kind: entry.attributes.kind, attributes: entry.attributes, sizeMayBeStale: entry.sizeMayBeStale, next: off_t(entry.cookie))
            }
        } else {
            // An entry needs at least 32 bytes of dirent, so more than this cannot fit.
            for entry in try vault.readdir(inode, after: cookie, limit: max(1, size / 32)) {
                if hidesNames && hiddenRootNames.contains(entry.name) { continue }
                let attributes = plus ? try? vault.attributes(entry.inode) : nil
                if plus && attributes == nil { continue }  // removed meanwhile
                let added = entry.name.withCString { name in
                    reply.add(name: name, inode: entry.inode, kind: entry.kind, attributes: attributes,
                              sizeMayBeStale: false, next: off_t(entry.cookie))
                }
                guard added else { break }
            }
        }
        reply.send()
    }

    func releasedir(_ request: fuse_req_t) {
        Self.replyOK(request)
    }

    /// Directory changes are journalled with the namespace; fsync of a directory waits for it.
    func fsyncdir(_ request: fuse_req_t) throws(VaultError) {
        releases?.drain()
        try vault.sync()
        Self.replyOK(request)
    }
}

/// A readdir(plus) reply being filled in a caller-provided buffer.
private struct DirectoryReply {
    let request: fuse_req_t
    let storage: UnsafeMutableRawBufferPointer
    let plus: Bool
    let filesystem: FuseFilesystem
    private var used = 0

    init(request: fuse_req_t, storage: UnsafeMutableRawBufferPointer, plus: Bool, filesystem: FuseFilesystem) {
        self.request = request
        self.storage = storage
        self.plus = plus
        self.filesystem = filesystem
    }

    private var free: (UnsafeMutablePointer<CChar>, Int) {
        (storage.baseAddress!.assumingMemoryBound(to: CChar.self) + used, storage.count - used)
    }

    /// "." or "..": the kernel resolves these itself, so a plus entry carries no node id
    /// (and takes no lookup reference).
    mutating func addDot(_ name: StaticString, inode: InodeNumber, next: off_t) -> Bool {
        var status = Glibc.stat()
        status.st_ino = UInt(inode)
        status.st_mode = FileKind.directory.modeBits
        // A StaticString literal is NUL-terminated.
        let cName = UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
        let (position, room) = free
        if plus {
            var entry = fuse_entry_param()
            entry.attr = status
            return commit(fuse_add_direntry_plus(request, position, room, cName, &entry, next))
        }
        return commit(fuse_add_direntry(request, position, room, cName, &status, next))
    }

    /// A named child; with `plus`, its attributes too (not cached when the size may lag
    /// behind an open writer).
    mutating func add(name: UnsafePointer<CChar>, inode: InodeNumber, kind: FileKind, attributes: NodeAttributes?,
                      sizeMayBeStale: Bool, next: off_t) -> Bool {
        let (position, room) = free
        if plus, let attributes {
            var entry = filesystem.entry(inode, attributes)
            if sizeMayBeStale { entry.attr_timeout = 0 }
            return commit(fuse_add_direntry_plus(request, position, room, name, &entry, next))
        }
        var status = Glibc.stat()
        status.st_ino = UInt(inode)
        status.st_mode = kind.modeBits
        return commit(fuse_add_direntry(request, position, room, name, &status, next))
    }

    /// libfuse reports the size an entry needs and writes it only when it fits.
    private mutating func commit(_ needed: Int) -> Bool {
        guard needed <= storage.count - used else { return false }
        used += needed
        return true
    }

    func send() {
        fuse_reply_buf(request, storage.baseAddress!.assumingMemoryBound(to: CChar.self), used)
    }
}
