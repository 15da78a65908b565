import Glibc
import VolumePool

/// Extended attributes (the user.* namespace) and filesystem statistics.
extension Vault {
    public static let maximumXattrNameBytes = 255
    public static let maximumXattrValueBytes = 65536

    public enum XattrMode: Sendable {
        case createOrReplace, createOnly, replaceOnly
    }

    public func getXattr(_ inode: InodeNumber, _ name: String) throws(VaultError) -> [UInt8] {
        try Self.checkXattrName(name)
        return try read { (namespace) throws(VaultError) in try namespace.xattr(inode, name) }
    }

    public func listXattrs(_ inode: InodeNumber) throws(VaultError) -> [String] {
        try read { (namespace) throws(VaultError) in try namespace.xattrNames(inode) }
    }

    public func setXattr(_ inode: InodeNumber, _ name: String, _ value: [UInt8], mode: XattrMode = .createOrReplace) throws(VaultError) {
        try Self.checkXattrName(name)
        guard value.count <= Self.maximumXattrValueBytes else {
            throw VaultError(.argumentListTooLong, "attribute value of \(value.count) bytes exceeds \(Self.maximumXattrValueBytes)")
        }
        try mutate { (namespace) throws(VaultError) in
            let exists = (try? namespace.xattr(inode, name)) != nil
            if mode == .createOnly && exists { throw VaultError(.exists, "attribute \(name) already exists") }
            if mode == .replaceOnly && !exists { throw VaultError(.noAttribute, "attribute \(name) does not exist") }
            return ((), [try namespace.setXattr(inode, name, value, time: .now)])
        }
    }

    public func removeXattr(_ inode: InodeNumber, _ name: String) throws(VaultError) {
        try Self.checkXattrName(name)
        try mutate { (namespace) throws(VaultError) in ((), [try namespace.removeXattr(inode, name, time: .now)]) }
    }

    /// Only user.* attributes are stored; other namespaces (security, trusted, system) are
    /// refused as unsupported, as on filesystems mounted without them.
    static func checkXattrName(_ name: String) throws(VaultError) {
        guard isInStoredNamespace(name.utf8), name.utf8.count > storedXattrPrefix.utf8.count else {
            throw unsupportedXattrNamespace
        }
        guard name.utf8.count <= maximumXattrNameBytes else {
            throw VaultError(.nameTooLong, "attribute name of \(name.utf8.count) bytes exceeds \(maximumXattrNameBytes)")
        }
    }

    /// The namespace rule of `checkXattrName` on a name as the kernel's C string, checked
    /// before a String is made of it: the kernel asks every new file for `security.capability`
    /// before its first write, one request per file of an untar.
    public static func checkXattrNamespace(_ name: UnsafePointer<CChar>) throws(VaultError) {
        let head = UnsafeRawBufferPointer(start: name, count: strnlen(name, storedXattrPrefix.utf8.count))
        guard isInStoredNamespace(head) else { throw unsupportedXattrNamespace }
    }

    private static let storedXattrPrefix = "user."
    private static func isInStoredNamespace(_ utf8: some Sequence<UInt8>) -> Bool {
        utf8.starts(with: storedXattrPrefix.utf8)
    }
    private static var unsupportedXattrNamespace: VaultError {
        VaultError(.notSupported, "only user.* extended attributes are supported")
    }

    /// statfs: space as plaintext bytes the pool can still take (free space of the volumes
    /// times k/(k+m), since every byte costs (k+m)/k on disk).
    public func statistics() -> VaultStatistics {
        let volumes = pool.volumeStatus().compactMap(\.capacity)
        let k = UInt64(pool.dataShards)
        let n = UInt64(pool.totalShards)
        let total = volumes.reduce(UInt64(0)) { $0 + UInt64($1.totalBytes) } * k / n
        let available = volumes.reduce(UInt64(0)) { $0 + UInt64($1.availableBytes) } * k / n
        let files = (try? read { (namespace) throws(VaultError) in namespace.inodeCount }) ?? 0
        return VaultStatistics(blockSize: 4096, totalBytes: total, availableBytes: available, files: UInt64(files),
                               maximumNameBytes: 255)
    }
}

public struct VaultStatistics: Equatable, Sendable {
    public var blockSize: UInt64
    public var totalBytes: UInt64
    public var availableBytes: UInt64
    public var files: UInt64
    public var maximumNameBytes: UInt64
}
