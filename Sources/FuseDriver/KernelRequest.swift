/// A request as the kernel wrote it to /dev/fuse, read before libfuse decodes it for what
/// libfuse 3.14 does not pass on — the kernel's INIT flags and the kill-set-ID flags of WRITE
/// and OPEN — and for where a ring owner sends it (`RingHelpers.takes`).
///
/// Layouts from linux/fuse.h (stable ABI): `fuse_in_header` (40 bytes), then the
/// operation's arguments.
struct KernelRequest {
    private let bytes: UnsafeRawBufferPointer

    static let headerSize = 40

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var opcode: UInt32 { word(at: 4) ?? 0 }
    var unique: UInt64 { bytes.count >= 16 ? bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self) : 0 }
    var nodeID: UInt64 { bytes.count >= 24 ? bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self) : 0 }

    /// The 32-bit word at `offset` bytes into the operation's arguments.
    private func argument(at offset: Int) -> UInt32? { word(at: Self.headerSize + offset) }

    private func word(at offset: Int) -> UInt32? {
        bytes.count >= offset + 4 ? bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self) : nil
    }

    /// INIT: the capability flags the kernel offers (`fuse_init_in.flags`).
    var offeredFlags: UInt32 { opcode == Opcode.initialize ? argument(at: 12) ?? 0 : 0 }

    /// INIT: `fuse_init_in.flags2`, which the kernel fills only with FUSE_INIT_EXT in flags.
    var offeredFlags2: UInt32 { offeredFlags & Opcode.initExtension != 0 ? argument(at: 16) ?? 0 : 0 }

    /// WRITE: how many bytes (`fuse_write_in.size`).
    var writeSize: Int { opcode == Opcode.write ? Int(argument(at: 16) ?? 0) : 0 }

    /// SETATTR: whether it sets the size (`FATTR_SIZE` in `fuse_setattr_in.valid`).
    var setsSize: Bool { opcode == Opcode.setAttributes && (argument(at: 0) ?? 0) & Opcode.setsSize != 0 }

    /// The kernel asks the filesystem to clear the file's set-user-ID and set-group-ID bits
    /// before this WRITE (`FUSE_WRITE_KILL_SUIDGID`) or truncating OPEN
    /// (`FUSE_OPEN_KILL_SUIDGID`); only with FUSE_HANDLE_KILLPRIV_V2 negotiated.
    var dropsSetIDBits: Bool {
        switch opcode {
        case Opcode.write: return (argument(at: 20) ?? 0) & Opcode.writeKillSetID != 0
        case Opcode.open: return (argument(at: 4) ?? 0) & Opcode.openKillSetID != 0
        default: return false
        }
    }
}

/// The kernel's operation codes and flags this driver reads itself (linux/fuse.h).
enum Opcode {
    static let setAttributes: UInt32 = 4
    static let open: UInt32 = 14
    static let read: UInt32 = 15
    static let write: UInt32 = 16
    static let fsync: UInt32 = 20
    static let initialize: UInt32 = 26
    static let fsyncDirectory: UInt32 = 30
    /// FATTR_SIZE in fuse_setattr_in.valid.
    static let setsSize: UInt32 = 1 << 3
    /// FUSE_INIT_EXT in fuse_init_in.flags: flags2 is filled in.
    static let initExtension: UInt32 = 1 << 30
    /// FUSE_WRITE_KILL_SUIDGID in fuse_write_in.write_flags.
    static let writeKillSetID: UInt32 = 1 << 2
    /// FUSE_OPEN_KILL_SUIDGID in fuse_open_in.open_flags.
    static let openKillSetID: UInt32 = 1 << 0
}
