import Foundation
import Synchronization

/// How many requests of each kind the kernel sent during a mount (mount option
/// `report_requests`), printed on standard error when the session ends. Round trips are what
/// small-file workloads pay for on FUSE, so this is how their cost is read, and how tests pin
/// the requests a file costs (docs/FUSE.md, "Round trips per file").
final class RequestCensus: Sendable {
    private let counts = Mutex([Int](repeating: 0, count: RequestCensus.names.count))
    private let overRings = Atomic<Int>(0)

    func count(_ opcode: UInt32) {
        counts.withLock { counts in
            if Int(opcode) < counts.count { counts[Int(opcode)] += 1 } else { counts[0] += 1 }
        }
    }

    /// Counts a request that came over io_uring (RingQueues) rather than /dev/fuse.
    func countOverRing() {
        overRings.add(1, ordering: .relaxed)
    }

    /// "FUSE requests: LOOKUP 3, CREATE 2, ..." in opcode order, kinds never sent left out;
    /// with io_uring, a second line "FUSE requests over io_uring: N".
    var report: String {
        let counts = counts.withLock { $0 }
        let sent = counts.indices.filter { counts[$0] > 0 }.map { "\(Self.names[$0]) \(counts[$0])" }
        let rings = overRings.load(ordering: .relaxed)
        return "FUSE requests: " + (sent.isEmpty ? "none" : sent.joined(separator: ", "))
            + (rings > 0 ? "\nshardvault: FUSE requests over io_uring: \(rings)" : "")
    }

    /// linux/fuse.h's opcodes by number ("OTHER" at 0 collects unknown ones).
    static let names = [
        "OTHER", "LOOKUP", "FORGET", "GETATTR", "SETATTR", "READLINK", "SYMLINK", "OPCODE_7", "MKNOD", "MKDIR",
        "UNLINK", "RMDIR", "RENAME", "LINK", "OPEN", "READ", "WRITE", "STATFS", "RELEASE", "OPCODE_19",
        "FSYNC", "SETXATTR", "GETXATTR", "LISTXATTR", "REMOVEXATTR", "FLUSH", "INIT", "OPENDIR", "READDIR", "RELEASEDIR",
        "FSYNCDIR", "GETLK", "SETLK", "SETLKW", "ACCESS", "CREATE", "INTERRUPT", "BMAP", "DESTROY", "IOCTL",
        "POLL", "NOTIFY_REPLY", "BATCH_FORGET", "FALLOCATE", "READDIRPLUS", "RENAME2", "LSEEK", "COPY_FILE_RANGE",
        "SETUPMAPPING", "REMOVEMAPPING", "SYNCFS", "TMPFILE", "STATX",
    ]
}
