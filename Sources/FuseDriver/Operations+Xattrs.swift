import CFuse3
import Glibc
import Vault

/// Extended attributes (user.* only; other namespaces get EOPNOTSUPP from the vault).
/// get/list follow the kernel's size protocol: size 0 asks for the length, a too-small
/// buffer gets ERANGE.
extension FuseFilesystem {
    /// setxattr(2) flags.
    static let xattrCreate: Int32 = 1
    static let xattrReplace: Int32 = 2

    func setxattr(_ request: fuse_req_t, _ inode: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ value: UnsafePointer<CChar>?,
                  _ size: Int, _ flags: Int32) throws(VaultError) {
        let mode: Vault.XattrMode
        switch flags {
        case 0: mode = .createOrReplace
        case Self.xattrCreate: mode = .createOnly
        case Self.xattrReplace: mode = .replaceOnly
        default: throw VaultError(.invalidArgument, "unknown setxattr flags \(flags)")
        }
        let bytes = size == 0 ? [] : Array(UnsafeRawBufferPointer(start: value, count: size))
        try vault.setXattr(inode, try KernelName.string(name), bytes, mode: mode)
        Self.replyOK(request)
    }

    func getxattr(_ request: fuse_req_t, _ inode: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ size: Int) throws(VaultError) {
        if let name { try Vault.checkXattrNamespace(name) }
        let value = try vault.getXattr(inode, try KernelName.string(name))
        Self.replySized(request, value, room: size)
    }

    func listxattr(_ request: fuse_req_t, _ inode: fuse_ino_t, _ size: Int) throws(VaultError) {
        var list: [UInt8] = []
        for name in try vault.listXattrs(inode) {
            list.append(contentsOf: name.utf8)
            list.append(0)
        }
        Self.replySized(request, list, room: size)
    }

    func removexattr(_ request: fuse_req_t, _ inode: fuse_ino_t, _ name: UnsafePointer<CChar>?) throws(VaultError) {
        try vault.removeXattr(inode, try KernelName.string(name))
        Self.replyOK(request)
    }

    /// ERANGE is not a vault condition (the vault has no caller buffers), so it is answered here.
    private static func replySized(_ request: fuse_req_t, _ bytes: [UInt8], room: Int) {
        if room == 0 {
            fuse_reply_xattr(request, bytes.count)
            return
        }
        guard bytes.count <= room else {
            fuse_reply_err(request, ERANGE)
            return
        }
        bytes.withUnsafeBytes { raw in
            _ = fuse_reply_buf(request, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
        }
    }
}
