/// Journal record encoding, version 3 (docs/FORMAT-vault.md, "Namespace records").
///
/// A record is a tag byte (`RecordTag`) followed by that case's fields. Records travel in
/// batches: the journal layer seals one batch per commit, so the version byte is per batch,
/// not per record, and costs nothing on the many small records of a group commit.
extension NamespaceRecord {
    /// Version 2 added packed block references, version 3 compact ones; older batches read
    /// the same way.
    public static let batchFormatVersion: UInt8 = 3

    /// Version byte, record count (varint), then each record.
    public static func encodeRecords(_ records: [NamespaceRecord]) -> [UInt8] {
        var writer = BinaryWriter(reservingCapacity: 2 + records.count * 48)
        writer.writeUInt8(batchFormatVersion)
        writer.writeVarint(records.count)
        for record in records { record.encode(into: &writer) }
        return writer.bytes
    }

    public static func decodeRecords(_ bytes: [UInt8]) throws(FormatDecodingError) -> [NamespaceRecord] {
        var reader = BinaryReader(bytes)
        let version = try reader.readUInt8()
        guard (1 ... batchFormatVersion).contains(version) else {
            throw .unsupportedVersion(what: "namespace record batch", found: version, supported: batchFormatVersion)
        }
        let count = try reader.readLength("record count")
        // The smallest record (release of a one-byte inode) is two bytes.
        try reader.checkCount(count, minimumSize: 2, "namespace records")
        var records: [NamespaceRecord] = []
        records.reserveCapacity(count)
        for _ in 0 ..< count { records.append(try NamespaceRecord(from: &reader)) }
        try reader.expectEnd("the last namespace record")
        return records
    }

    public func encode(into writer: inout BinaryWriter) {
        switch self {
        case let .create(creation):
            writer.writeUInt8(RecordTag.create.rawValue)
            Self.encode(creation, into: &writer)
        case let .link(inode, parent, name, time):
            writer.writeUInt8(RecordTag.link.rawValue)
            writer.writeInode(inode)
            writer.writeInode(parent)
            writer.writeName(name)
            writer.writeTimestamp(time)
        case let .unlink(parent, name, time):
            writer.writeUInt8(RecordTag.unlink.rawValue)
            writer.writeInode(parent)
            writer.writeName(name)
            writer.writeTimestamp(time)
        case let .rename(from, fromName, to, toName, mode, time):
            writer.writeUInt8(RecordTag.rename.rawValue)
            writer.writeInode(from)
            writer.writeName(fromName)
            writer.writeInode(to)
            writer.writeName(toName)
            writer.writeUInt8(mode.rawValue)
            writer.writeTimestamp(time)
        case let .setAttributes(inode, changes, time):
            writer.writeUInt8(RecordTag.setAttributes.rawValue)
            writer.writeInode(inode)
            writer.writeAttributeChanges(changes)
            writer.writeTimestamp(time)
        case let .setContent(inode, content, size, time):
            writer.writeUInt8(RecordTag.setContent.rawValue)
            writer.writeInode(inode)
            writer.writeContent(content)
            writer.writeVarint(size)
            writer.writeTimestamp(time)
        case let .setBlock(inode, index, block, size, time):
            writer.writeUInt8(RecordTag.setBlock.rawValue)
            writer.writeInode(inode)
            writer.writeVarint(index)
            writer.writeOptional(block) { writer, block in writer.writeBlockReference(block) }
            writer.writeVarint(size)
            writer.writeTimestamp(time)
        case let .setXattr(inode, name, value, time):
            writer.writeUInt8(RecordTag.setXattr.rawValue)
            writer.writeInode(inode)
            writer.writeString(name)
            writer.writeBytes(value)
            writer.writeTimestamp(time)
        case let .removeXattr(inode, name, time):
            writer.writeUInt8(RecordTag.removeXattr.rawValue)
            writer.writeInode(inode)
            writer.writeString(name)
            writer.writeTimestamp(time)
        case let .release(inode):
            writer.writeUInt8(RecordTag.release.rawValue)
            writer.writeInode(inode)
        }
    }

    public init(from reader: inout BinaryReader) throws(FormatDecodingError) {
        let start = reader.position
        let raw = try reader.readUInt8()
        guard let tag = RecordTag(rawValue: raw) else { throw .malformed("record tag \(raw) at \(start)") }
        switch tag {
        case .create:
            self = .create(try Self.decodeCreation(from: &reader))
        case .link:
            let inode = try reader.readInode()
            let parent = try reader.readInode()
            let name = try reader.readName()
            self = .link(inode: inode, parent: parent, name: name, time: try reader.readTimestamp())
        case .unlink:
            let parent = try reader.readInode()
            let name = try reader.readName()
            self = .unlink(parent: parent, name: name, time: try reader.readTimestamp())
        case .rename:
            let from = try reader.readInode()
            let fromName = try reader.readName()
            let to = try reader.readInode()
            let toName = try reader.readName()
            let modeStart = reader.position
            let rawMode = try reader.readUInt8()
            guard let mode = RenameMode(rawValue: rawMode) else {
                throw .malformed("rename mode \(rawMode) at \(modeStart)")
            }
            self = .rename(from: from, fromName: fromName, to: to, toName: toName, mode: mode,
                           time: try reader.readTimestamp())
        case .setAttributes:
            let inode = try reader.readInode()
            let changes = try reader.readAttributeChanges()
            self = .setAttributes(inode: inode, changes: changes, time: try reader.readTimestamp())
        case .setContent:
            let inode = try reader.readInode()
            let content = try reader.readContent()
            let size = try reader.readVarint()
            self = .setContent(inode: inode, content: content, size: size, time: try reader.readTimestamp())
        case .setBlock:
            let inode = try reader.readInode()
            let index = try reader.readLength(limit: Int(UInt32.max), "block index")
            let block = try reader.readOptional { (reader: inout BinaryReader) throws(FormatDecodingError) in
                try reader.readBlockReference()
            }
            let size = try reader.readVarint()
            self = .setBlock(inode: inode, index: index, block: block, size: size, time: try reader.readTimestamp())
        case .setXattr:
            let inode = try reader.readInode()
            let name = try reader.readString()
            let value = try reader.readBytes()
            self = .setXattr(inode: inode, name: name, value: value, time: try reader.readTimestamp())
        case .removeXattr:
            let inode = try reader.readInode()
            let name = try reader.readString()
            self = .removeXattr(inode: inode, name: name, time: try reader.readTimestamp())
        case .release:
            self = .release(inode: try reader.readInode())
        }
    }

    // MARK: Creation

    /// Which optional parts of a creation follow its fixed fields.
    private enum CreationPart {
        static let directoryID: UInt8 = 1 << 0
        static let symlinkTarget: UInt8 = 1 << 1
        static let all: UInt8 = 0b11
    }

    private static func encode(_ creation: Creation, into writer: inout BinaryWriter) {
        // `apply` turns a directory creation without an id into a directory with no contents;
        // refusing to journal one keeps that broken state from ever reaching the disk.
        precondition((creation.kind == .directory) == (creation.directoryID != nil),
                     "a creation carries a directory id exactly when it creates a directory")
        writer.writeInode(creation.parent)
        writer.writeName(creation.name)
        writer.writeInode(creation.inode)
        writer.writeKind(creation.kind)
        writer.writeVarint(creation.permissions)
        writer.writeVarint(creation.uid)
        writer.writeVarint(creation.gid)
        writer.writeTimestamp(creation.time)
        var parts: UInt8 = 0
        if creation.directoryID != nil { parts |= CreationPart.directoryID }
        if creation.symlinkTarget != nil { parts |= CreationPart.symlinkTarget }
        writer.writeUInt8(parts)
        if let id = creation.directoryID { writer.writeDirectoryID(id) }
        if let target = creation.symlinkTarget { writer.writeBytes(target) }
        writer.writeVarint(creation.symlinkLength)
    }

    private static func decodeCreation(from reader: inout BinaryReader) throws(FormatDecodingError) -> Creation {
        let parent = try reader.readInode()
        let name = try reader.readName()
        let inode = try reader.readInode()
        let kind = try reader.readKind()
        let permissions = try reader.readVarintUInt32("permissions")
        let uid = try reader.readVarintUInt32("uid")
        let gid = try reader.readVarintUInt32("gid")
        let time = try reader.readTimestamp()
        let partsStart = reader.position
        let parts = try reader.readUInt8()
        guard parts & ~CreationPart.all == 0 else { throw .malformed("creation parts \(parts) at \(partsStart)") }
        guard (parts & CreationPart.directoryID != 0) == (kind == .directory) else {
            throw .malformed("creation of inode \(inode) (\(kind)) at \(partsStart): directory id present iff directory")
        }
        let directoryID = parts & CreationPart.directoryID != 0 ? try reader.readDirectoryID() : nil
        let symlinkTarget = parts & CreationPart.symlinkTarget != 0 ? try reader.readBytes() : nil
        let symlinkLength = try reader.readVarint()
        return Creation(parent: parent, name: name, inode: inode, kind: kind, permissions: permissions, uid: uid,
                        gid: gid, time: time, directoryID: directoryID, symlinkTarget: symlinkTarget,
                        symlinkLength: symlinkLength)
    }
}

/// The first byte of every record. Values are part of the format: never renumber.
enum RecordTag: UInt8 {
    case create = 1
    case link = 2
    case unlink = 3
    case rename = 4
    case setAttributes = 5
    case setContent = 6
    case setXattr = 7
    case removeXattr = 8
    case release = 9
    case setBlock = 10
}
