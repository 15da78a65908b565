import Foundation
import FuseDriver

/// Checks of the mount point made before the password is asked for, and the clean-up of a
/// stale mount left there by a shardvault daemon that died.
enum MountPoint {
    /// The filesystem type our mounts show in /proc/self/mountinfo (subtype=shardvault).
    static let filesystemType = "fuse.shardvault"

    /// `path` made absolute against the current directory.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// Refuses a mount point that is missing or not a directory. A stale mount (the kernel
    /// answers ENOTCONN because the daemon behind it died, e.g. of SIGKILL — ECONNABORTED
    /// while the connection is still being torn down, ECANCELED for a request the kernel had
    /// queued on the dead daemon's io_uring) of a shardvault
    /// vault is detached lazily — it serves nothing any more, and otherwise every mount after
    /// a crash, from fstab or a service manager too, would fail until someone ran
    /// `fusermount3 -u`. A stale mount of another filesystem is left alone and named.
    static func prepare(_ mountpoint: String) throws {
        var status = stat()
        if stat(mountpoint, &status) != 0 && isDisconnected(errno) {
            try detachStaleMount(mountpoint)
        }
        guard stat(mountpoint, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            if isDisconnected(errno) {
                throw CLIFailure.failed("\(mountpoint) is still a stale mount after detaching it: \(reason)")
            }
            throw CLIFailure.usage("the mount point \(mountpoint) does not exist: \(reason)")
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw CLIFailure.usage("the mount point \(mountpoint) is not a directory")
        }
    }

    private static func isDisconnected(_ error: Int32) -> Bool {
        error == ENOTCONN || error == ECONNABORTED || error == ECANCELED
    }

    private static func detachStaleMount(_ mountpoint: String) throws {
        let type = Unmounter.filesystemType(mountedAt: mountpoint)
        guard type == filesystemType else {
            let what = type.map { "a stale \($0) mount" } ?? "a stale mount"
            throw CLIFailure.failed("\(mountpoint) is \(what) of a daemon that died, not a shardvault one; "
                + "detach it with `fusermount3 -u -z \(mountpoint)` (or `umount -l`) first")
        }
        guard Unmounter.unmount(mountpoint, lazy: true) else {
            throw CLIFailure.failed("\(mountpoint) is a stale mount left by a shardvault daemon that died, and "
                + "`fusermount3 -u -z \(mountpoint)` failed; detach it as root or as the user who mounted it")
        }
        Output.note("\(mountpoint) was a stale mount left by a shardvault daemon that died; detached it "
            + "(fusermount3 -u -z). Data not fsync'd before the daemon died may be lost.")
    }
}
