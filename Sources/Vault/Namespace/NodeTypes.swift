import VaultCrypto

/// Inode numbers are persistent: allocated once, recorded in the journal, never reused while
/// the vault lives (the kernel and NFS-style clients may cache them).
public typealias InodeNumber = UInt64

public enum FileKind: UInt8, Sendable, Equatable {
    case regular = 1
    case directory = 2
    case symlink = 3
    case fifo = 4

    /// The S_IFMT bits of `st_mode`.
    public var modeBits: UInt32 {
        switch self {
        case .regular: return 0o100000
        case .directory: return 0o040000
        case .symlink: return 0o120000
        case .fifo: return 0o010000
        }
    }
}

/// Nanoseconds since the Unix epoch (covers 1678…2262).
public typealias Timestamp = Int64

/// A child name as it lives in memory and on disk: AES-SIV ciphertext, never plaintext.
public struct SealedName: Hashable, Sendable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// All bytes in one call: the synthesized hash feeds the hasher a byte at a time, which
    /// was a visible part of every lookup and create (each probes the directory map).
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

/// The attributes `getattr` reports.
public struct NodeAttributes: Equatable, Sendable {
    public var kind: FileKind
    /// Permission bits (07777).
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var nlink: UInt32
    public var size: UInt64
    public var atime: Timestamp
    public var mtime: Timestamp
    public var ctime: Timestamp

    public var mode: UInt32 { kind.modeBits | permissions }
}

/// What `setattr` changes; nil fields stay as they are.
public struct AttributeChanges: Equatable, Sendable {
    public var permissions: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    public var size: UInt64?
    public var atime: Timestamp?
    public var mtime: Timestamp?

    public init(permissions: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil, size: UInt64? = nil,
                atime: Timestamp? = nil, mtime: Timestamp? = nil) {
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.size = size
        self.atime = atime
        self.mtime = mtime
    }
}

/// A POSIX rename flavour (renameat2 flags).
public enum RenameMode: UInt8, Sendable, Equatable {
    case replace = 0
    case noReplace = 1
    case exchange = 2
}

/// One `readdir` result.
public struct DirectoryEntry: Equatable, Sendable {
    /// Resume point: pass it back to continue after this entry. Stable under concurrent
    /// inserts and removals; never reused within a directory.
    public var cookie: UInt64
    public var name: SealedName
    public var inode: InodeNumber
    public var kind: FileKind
}
