import CFuse3
import Glibc
import Vault

/// Reply helpers: every answer to the kernel goes through one of these, so the entry and
/// attribute timeouts and the shape of `fuse_entry_param` are decided in one place.
extension FuseFilesystem {
    /// An entry (lookup, mkdir, mknod, symlink, link, create) for `inode` with `attributes`
    /// (owner as `uid=`/`gid=` report it). Generation 0 is correct because inode numbers are
    /// never reused.
    func entry(_ inode: InodeNumber, _ attributes: NodeAttributes) -> fuse_entry_param {
        var entry = fuse_entry_param()
        entry.ino = inode
        entry.generation = 0
        entry.attr = StatConversion.stat(inode, options.reported(attributes))
        entry.attr_timeout = options.attributeTimeout
        entry.entry_timeout = options.entryTimeout
        return entry
    }

    func replyEntry(_ request: fuse_req_t, _ inode: InodeNumber, _ attributes: NodeAttributes) {
        var entry = entry(inode, attributes)
        fuse_reply_entry(request, &entry)
    }

    /// ENOENT for a lookup, as a negative entry the kernel keeps for `negative_timeout`: a
    /// missing name probed again and again (compilers' include paths, Python's imports, git's
    /// ignore files) then costs one round trip, not one per probe.
    func replyNoEntry(_ request: fuse_req_t) {
        guard options.negativeTimeout > 0 else {
            fuse_reply_err(request, ENOENT)
            return
        }
        var entry = fuse_entry_param()   // inode 0: the name does not exist
        entry.entry_timeout = options.negativeTimeout
        fuse_reply_entry(request, &entry)
    }

    func replyAttributes(_ request: fuse_req_t, _ inode: InodeNumber, _ attributes: NodeAttributes) {
        var status = StatConversion.stat(inode, options.reported(attributes))
        fuse_reply_attr(request, &status, options.attributeTimeout)
    }

    /// An operation that succeeded with nothing to say.
    static func replyOK(_ request: fuse_req_t) {
        fuse_reply_err(request, 0)
    }
}

/// A name the kernel passed, as the vault's String. The kernel only sends names it has
/// checked for '/' and NUL; invalid UTF-8 is refused rather than silently replaced, so a
/// name never maps to a different file.
enum KernelName {
    static func string(_ pointer: UnsafePointer<CChar>?) throws(VaultError) -> String {
        guard let pointer else { throw VaultError(.invalidArgument, "missing name") }
        guard let name = String(validatingCString: pointer) else {
            throw VaultError(.invalidArgument, "file names must be valid UTF-8")
        }
        return name
    }
}
