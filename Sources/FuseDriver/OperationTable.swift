import CFuse3
import Glibc
import Vault

/// The C operation table libfuse dispatches through. Each entry is a non-capturing closure
/// (a C function pointer) that finds the FuseFilesystem in the request's userdata and calls
/// the method of the same name; errors become `fuse_reply_err` in `FuseFilesystem.serve`.
enum OperationTable {
    static func make() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()
        ops.`init` = { userdata, connection in
            guard let userdata, let connection else { return }
            Unmanaged<FuseFilesystem>.fromOpaque(userdata).takeUnretainedValue().negotiate(connection)
        }
        // The vault keeps every inode until it is unlinked and closed, so the kernel's
        // lookup counts need no bookkeeping.
        ops.forget = { request, _, _ in fuse_reply_none(request) }
        ops.forget_multi = { request, _, _ in fuse_reply_none(request) }

        ops.lookup = { request, parent, name in FuseFilesystem.serve(request!) { try $0.lookup(request!, parent, name) } }
        ops.getattr = { request, inode, _ in FuseFilesystem.serve(request!) { try $0.getattr(request!, inode) } }
        ops.setattr = { request, inode, attributes, toSet, file in
            FuseFilesystem.serve(request!) { try $0.setattr(request!, inode, attributes, toSet, file) }
        }
        ops.access = { request, inode, mask in FuseFilesystem.serve(request!) { try $0.access(request!, inode, mask) } }
        ops.statfs = { request, _ in FuseFilesystem.serve(request!) { $0.statfs(request!) } }

        ops.mkdir = { request, parent, name, mode in FuseFilesystem.serve(request!) { try $0.mkdir(request!, parent, name, mode) } }
        ops.mknod = { request, parent, name, mode, _ in FuseFilesystem.serve(request!) { try $0.mknod(request!, parent, name, mode) } }
        ops.symlink = { request, target, parent, name in
            FuseFilesystem.serve(request!) { try $0.symlink(request!, target, parent, name) }
        }
        ops.readlink = { request, inode in FuseFilesystem.serve(request!) { try $0.readlink(request!, inode) } }
        ops.link = { request, inode, newParent, newName in
            FuseFilesystem.serve(request!) { try $0.link(request!, inode, newParent, newName) }
        }
        ops.unlink = { request, parent, name in FuseFilesystem.serve(request!) { try $0.unlink(request!, parent, name) } }
        ops.rmdir = { request, parent, name in FuseFilesystem.serve(request!) { try $0.rmdir(request!, parent, name) } }
        ops.rename = { request, parent, name, newParent, newName, flags in
            FuseFilesystem.serve(request!) { try $0.rename(request!, parent, name, newParent, newName, flags) }
        }

        ops.opendir = { request, inode, file in FuseFilesystem.serve(request!) { try $0.opendir(request!, inode, file) } }
        ops.readdir = { request, inode, size, offset, _ in
            FuseFilesystem.serve(request!) { try $0.readdir(request!, inode, size, offset, plus: false) }
        }
        ops.readdirplus = { request, inode, size, offset, _ in
            FuseFilesystem.serve(request!) { try $0.readdir(request!, inode, size, offset, plus: true) }
        }
        ops.releasedir = { request, _, _ in FuseFilesystem.serve(request!) { $0.releasedir(request!) } }
        ops.fsyncdir = { request, _, _, _ in FuseFilesystem.serve(request!) { try $0.fsyncdir(request!) } }

        ops.create = { request, parent, name, mode, file in
            FuseFilesystem.serve(request!) { try $0.create(request!, parent, name, mode, file) }
        }
        ops.open = { request, inode, file in FuseFilesystem.serve(request!) { try $0.open(request!, inode, file) } }
        ops.read = { request, _, size, offset, file in FuseFilesystem.serve(request!) { try $0.read(request!, size, offset, file) } }
        ops.write = { request, _, bytes, size, offset, file in
            FuseFilesystem.serve(request!) { try $0.write(request!, bytes, size, offset, file) }
        }
        ops.flush = { request, _, file in FuseFilesystem.serve(request!) { try $0.flush(request!, file) } }
        ops.fsync = { request, _, _, file in FuseFilesystem.serve(request!) { try $0.fsync(request!, file) } }
        ops.release = { request, _, file in FuseFilesystem.serve(request!) { try $0.release(request!, file) } }

        ops.setxattr = { request, inode, name, value, size, flags in
            FuseFilesystem.serve(request!) { try $0.setxattr(request!, inode, name, value, size, flags) }
        }
        ops.getxattr = { request, inode, name, size in FuseFilesystem.serve(request!) { try $0.getxattr(request!, inode, name, size) } }
        ops.listxattr = { request, inode, size in FuseFilesystem.serve(request!) { try $0.listxattr(request!, inode, size) } }
        ops.removexattr = { request, inode, name in FuseFilesystem.serve(request!) { try $0.removexattr(request!, inode, name) } }
        return ops
    }
}
