import Glibc
import Vault

/// `struct stat` from the vault's attributes.
enum StatConversion {
    /// Unit of `st_blocks`, fixed by POSIX/Linux regardless of the filesystem block size.
    static let statBlockUnit: UInt64 = 512
    /// `st_blksize`: the preferred I/O size. One vault chunk is 32 KiB, but writes are cheaper
    /// the bigger they are, so tools such as cp use the block size of the kernel's big writes.
    static let preferredIOSize = 128 * 1024

    static func stat(_ inode: InodeNumber, _ attributes: NodeAttributes) -> Glibc.stat {
        var status = Glibc.stat()
        status.st_ino = UInt(inode)
        status.st_mode = attributes.mode
        status.st_nlink = UInt(attributes.nlink)
        status.st_uid = attributes.uid
        status.st_gid = attributes.gid
        status.st_size = Int(clamping: attributes.size)
        // Plaintext size rounded up, so `du` shows what the user wrote (the real disk cost is
        // (k+m)/k of block-rounded ciphertext, which st_blocks cannot express per file).
        status.st_blocks = Int((attributes.size + statBlockUnit - 1) / statBlockUnit)
        status.st_blksize = preferredIOSize
        status.st_atim = timespec(attributes.atime)
        status.st_mtim = timespec(attributes.mtime)
        status.st_ctim = timespec(attributes.ctime)
        return status
    }

    /// Nanoseconds since the epoch as a timespec (floor division, so times before 1970 keep
    /// tv_nsec in 0..<1e9).
    static func timespec(_ time: Timestamp) -> Glibc.timespec {
        let second: Int64 = 1_000_000_000
        var seconds = time / second
        var nanoseconds = time % second
        if nanoseconds < 0 {
            seconds -= 1
            nanoseconds += second
        }
        return Glibc.timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds))
    }

    static func timestamp(_ time: Glibc.timespec) -> Timestamp {
        Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
