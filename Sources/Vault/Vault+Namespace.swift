import Foundation
import VaultCrypto
import VolumePool

/// Directory-tree operations by inode, with plaintext names in and out. Names are sealed with
/// the parent's directory id before they touch the namespace.
extension Vault {
    public static let maximumSymlinkBytes = 4095
    /// Associated-data kind for sealed symlink targets (sequence = the link's inode).
    static let symlinkTargetKind: UInt32 = 100

    public func lookup(_ parent: InodeNumber, _ name: String) throws(VaultError) -> (InodeNumber, NodeAttributes) {
        try NameRules.check(name)
        let inode = try read { (namespace) throws(VaultError) in
            try NameScratch.withSealedName(name, parent: try namespace.directoryID(parent), cipher: names) {
                (sealed) throws(VaultError) in try namespace.lookup(parent, sealed)
            }
        }
        return (inode, try attributes(inode))
    }

    /// `lookup` of a name given as the kernel's UTF-8 bytes. ASCII names (already NFC) go
    /// from those bytes to the sealed probe key without a String: no allocation at all.
    public func lookup(_ parent: InodeNumber, utf8 name: UnsafeRawBufferPointer) throws(VaultError) -> (InodeNumber, NodeAttributes) {
        guard NameRules.isASCII(name) else {
            guard let string = String(validating: name, as: UTF8.self) else {
                throw VaultError(.invalidArgument, "file names must be valid UTF-8")
            }
            return try lookup(parent, string)
        }
        try NameRules.check(asciiName: name)
        let inode = try read { (namespace) throws(VaultError) in
            try NameScratch.withSealedName(normalizedUTF8: name, parent: try namespace.directoryID(parent), cipher: names) {
                (sealed) throws(VaultError) in try namespace.lookup(parent, sealed)
            }
        }
        return (inode, try attributes(inode))
    }

    /// The parent of a directory (its ".." entry); the root is its own parent.
    public func parent(ofDirectory inode: InodeNumber) throws(VaultError) -> InodeNumber {
        try read { (namespace) throws(VaultError) in try namespace.parent(ofDirectory: inode) }
    }

    /// getattr; an open file reports the size including writes not yet flushed.
    public func attributes(_ inode: InodeNumber) throws(VaultError) -> NodeAttributes {
        while true {
            let seenRemovals = openFiles.removalCount
            var attributes = try read { (namespace) throws(VaultError) in try namespace.attributes(inode) }
            if let file = openFiles.file(inode) {
                attributes.size = file.publishedSize.load(ordering: .acquiring)
                return attributes
            }
            // Otherwise the recorded size is current, unless a file's last write-back
            // recorded a newer one and left the table after the read (OpenFileTable.removals).
            if openFiles.removalCount == seenRemovals { return attributes }
        }
    }

    /// Entries after `cookie` (0 = from the start), names decrypted. "." and ".." are the
    /// front doors' business.
    public func readdir(_ inode: InodeNumber, after cookie: UInt64, limit: Int = .max) throws(VaultError) -> [NamedEntry] {
        try read { (namespace) throws(VaultError) in
            let directoryID = try namespace.directoryID(inode)
            return try namespace.readdir(inode, after: cookie, limit: limit).map { (entry) throws(VaultError) in
                let name = try Self.wrapCrypto { () throws(CryptoError) in try names.decrypt(entry.name.bytes, parent: directoryID) }
                return NamedEntry(cookie: entry.cookie, name: name, inode: entry.inode, kind: entry.kind)
            }
        }
    }

    public func mkdir(_ parent: InodeNumber, _ name: String, permissions: UInt32, uid: UInt32, gid: UInt32) throws(VaultError) -> (InodeNumber, NodeAttributes) {
        try make(parent, name, kind: .directory, permissions: permissions, uid: uid, gid: gid)
    }

    /// Creates a regular file or a FIFO.
    public func mknod(_ parent: InodeNumber, _ name: String, kind: FileKind, permissions: UInt32, uid: UInt32, gid: UInt32) throws(VaultError) -> (InodeNumber, NodeAttributes) {
        guard kind == .regular || kind == .fifo else {
            throw VaultError(.notPermitted, "only regular files and FIFOs can be created with mknod")
        }
        return try make(parent, name, kind: kind, permissions: permissions, uid: uid, gid: gid)
    }

    public func symlink(_ parent: InodeNumber, _ name: String, target: String, uid: UInt32, gid: UInt32) throws(VaultError) -> (InodeNumber, NodeAttributes) {
        let bytes = Array(target.utf8)
        guard !bytes.isEmpty else { throw VaultError(.notFound, "a symlink target may not be empty") }
        guard bytes.count <= Self.maximumSymlinkBytes else {
            throw VaultError(.nameTooLong, "symlink target of \(bytes.count) bytes exceeds \(Self.maximumSymlinkBytes)")
        }
        return try mutate { (namespace) throws(VaultError) in
            let sealedName = try seal(name, in: parent, namespace)
            let sealedTarget = try Self.wrapCrypto { () throws(CryptoError) in
                try metadata.seal(bytes, context: MetadataContext(kind: Self.symlinkTargetKind, sequence: namespace.nextInode))
            }
            let (inode, record) = try namespace.create(in: parent, name: sealedName, kind: .symlink, permissions: 0o777, uid: uid,
                                                       gid: gid, time: .now, symlinkTarget: sealedTarget, symlinkLength: UInt64(bytes.count))
            return ((inode, try namespace.attributes(inode)), [record])
        }
    }

    public func readlink(_ inode: InodeNumber) throws(VaultError) -> String {
        let sealed = try read { (namespace) throws(VaultError) in try namespace.symlinkTarget(inode) }
        let bytes = try Self.wrapCrypto { () throws(CryptoError) in
            try metadata.open(sealed, context: MetadataContext(kind: Self.symlinkTargetKind, sequence: inode))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func link(_ inode: InodeNumber, into parent: InodeNumber, _ name: String) throws(VaultError) -> NodeAttributes {
        try mutate { (namespace) throws(VaultError) in
            let record = try namespace.link(inode, into: parent, name: try seal(name, in: parent, namespace), time: .now)
            return (try namespace.attributes(inode), [record])
        }
    }

    public func unlink(_ parent: InodeNumber, _ name: String) throws(VaultError) {
        let freed = try mutate { (namespace) throws(VaultError) in
            let (record, freed) = try namespace.unlink(parent, name: try seal(name, in: parent, namespace), time: .now)
            return (freed, [record])
        }
        freeAfterDurable(freed)
    }

    public func rmdir(_ parent: InodeNumber, _ name: String) throws(VaultError) {
        try mutate { (namespace) throws(VaultError) in
            ((), [try namespace.rmdir(parent, name: try seal(name, in: parent, namespace), time: .now)])
        }
    }

    public func rename(_ parent: InodeNumber, _ name: String, to newParent: InodeNumber, _ newName: String,
                       mode: RenameMode = .replace) throws(VaultError) {
        let freed = try mutate { (namespace) throws(VaultError) in
            let from = try seal(name, in: parent, namespace)
            let to = try seal(newName, in: newParent, namespace)
            let (record, freed) = try namespace.rename(parent, from, to: newParent, to, mode: mode, time: .now)
            return (freed, [record])
        }
        freeAfterDurable(freed)
    }

    /// chmod/chown/utimens. Size changes go through `truncate`.
    public func setAttributes(_ inode: InodeNumber, _ changes: AttributeChanges) throws(VaultError) -> NodeAttributes {
        guard changes.size == nil else { throw VaultError(.invalidArgument, "sizes change through truncate, not setAttributes") }
        // Buffered writes are recorded with the current time when flushed (at close at the
        // latest), which would overwrite an explicit mtime set meanwhile (tar -x sets it
        // before close; the kernel's writeback cache sends its own mtime the same way). The
        // open file remembers it, and its next flush sets it again. Flushing here instead
        // would seal partial blocks at every munmap and periodic writeback.
        let file = changes.mtime == nil ? nil : openFiles.file(inode)
        file?.lock.lock()
        defer { file?.lock.unlock() }
        file?.pendingMtime = changes.mtime
        return try mutate { (namespace) throws(VaultError) in
            let record = try namespace.setAttributes(inode, changes, time: .now)
            return (try namespace.attributes(inode), [record])
        }
    }

    func make(_ parent: InodeNumber, _ name: String, kind: FileKind, permissions: UInt32, uid: UInt32, gid: UInt32) throws(VaultError) -> (InodeNumber, NodeAttributes) {
        try mutate { (namespace) throws(VaultError) in
            let (inode, record) = try namespace.create(in: parent, name: try seal(name, in: parent, namespace), kind: kind,
                                                       permissions: permissions, uid: uid, gid: gid, time: .now)
            return ((inode, try namespace.attributes(inode)), [record])
        }
    }

    /// The sealed form of `name` as a child of `parent` (which must be a directory).
    func seal(_ name: String, in parent: InodeNumber, _ namespace: Namespace) throws(VaultError) -> SealedName {
        try NameRules.check(name)
        let directoryID = try namespace.directoryID(parent)
        return SealedName(try Self.wrapCrypto { () throws(CryptoError) in try names.encrypt(name: name, parent: directoryID) })
    }

    /// Deletes the blocks of content nothing references any more, once the records that
    /// stopped referencing them are durable (a crash before that must still find them).
    func freeAfterDurable(_ content: FileContent?) {
        guard let content else { return }
        freeAfterDurable(content.blocks)
    }

    func freeAfterDurable(_ freed: [BlockReference]) {
        guard !freed.isEmpty else { return }
        let store = blocks
        journal.afterDurable { for block in freed { store.delete(block) } }
    }
}

/// A directory entry with its name decrypted.
public struct NamedEntry: Equatable, Sendable {
    public var cookie: UInt64
    public var name: String
    public var inode: InodeNumber
    public var kind: FileKind
}

/// What a single path component may be.
enum NameRules {
    static func isASCII(_ name: UnsafeRawBufferPointer) -> Bool {
        name.allSatisfy { $0 < 0x80 }
    }

    /// `check` for a name known to be ASCII, without making a String of it.
    static func check(asciiName name: UnsafeRawBufferPointer) throws(VaultError) {
        let isDots = name.count <= 2 && name.allSatisfy { $0 == 0x2E }
        if name.isEmpty || isDots || name.contains(0x2F) || name.contains(0) || name.count > NameCipher.maximumNameBytes {
            // Rare: let the String version say precisely what is wrong.
            try check(String(decoding: name, as: UTF8.self))
        }
    }

    static func check(_ name: String) throws(VaultError) {
        if name.isEmpty || name == "." || name == ".." {
            throw VaultError(.invalidArgument, "\"\(name)\" is not a valid file name")
        }
        if name.utf8.contains(0x2F) || name.utf8.contains(0) {
            throw VaultError(.invalidArgument, "a file name may not contain '/' or NUL")
        }
        // Names are stored NFC-normalised, so the limit applies to the NFC form.
        // ASCII is already NFC: skip the normalisation (and its allocations) on the common path.
        let isASCII = name.utf8.allSatisfy { $0 < 0x80 }
        let length = isASCII ? name.utf8.count : name.precomposedStringWithCanonicalMapping.utf8.count
        if length > NameCipher.maximumNameBytes {
            throw VaultError(.nameTooLong, "name of \(length) bytes exceeds \(NameCipher.maximumNameBytes)")
        }
    }
}
