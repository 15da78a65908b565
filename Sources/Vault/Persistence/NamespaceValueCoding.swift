import VaultCrypto
import VolumePool

/// Encodings of the namespace's value types, shared by journal records and snapshots so a
/// value is laid out the same way wherever it is persisted (docs/FORMAT-vault.md, "Values").
extension BinaryWriter {
    public mutating func writeInode(_ inode: InodeNumber) {
        writeVarint(inode)
    }

    /// Nanosecond timestamps are large (≈ 2^60 today), so a fixed 8 bytes beats a varint.
    public mutating func writeTimestamp(_ time: Timestamp) {
        writeInt64(time)
    }

    public mutating func writeName(_ name: SealedName) {
        writeBytes(name.bytes)
    }

    public mutating func writeKind(_ kind: FileKind) {
        writeUInt8(kind.rawValue)
    }

    public mutating func writeDirectoryID(_ id: DirectoryID) {
        writeUInt64(id.high)
        writeUInt64(id.low)
    }

    public mutating func writeObjectID(_ id: ObjectID) {
        writeUInt64(id.high)
        writeUInt64(id.low)
    }

    /// The id, then the length with bit 32 flagging a packed block, whose pack object id and
    /// place follow: bit 33 set, a byte offset (a compact member, version 3); clear, the index
    /// of its first chunk (a chunk-aligned member, version 2). Version 1 never sets either.
    public mutating func writeBlockReference(_ block: BlockReference) {
        writeObjectID(block.id)
        guard let pack = block.pack else { return writeVarint(UInt64(block.length)) }
        let (flags, place): (UInt64, UInt32) = switch pack.placement {
        case let .chunkAligned(firstChunk): (BlockReferenceFlag.packed, firstChunk)
        case let .compact(byteOffset): (BlockReferenceFlag.packed | BlockReferenceFlag.compact, byteOffset)
        }
        writeVarint(UInt64(block.length) | flags)
        writeObjectID(pack.object)
        writeVarint(place)
    }

    /// Tag 0: inline bytes. Tag 1: block slots, each a presence byte then a block reference.
    public mutating func writeContent(_ content: FileContent) {
        switch content {
        case let .inline(bytes):
            writeUInt8(FileContentTag.inline.rawValue)
            writeBytes(bytes)
        case let .blocks(slots):
            writeUInt8(FileContentTag.blocks.rawValue)
            writeVarint(slots.count)
            for slot in slots {
                writeOptional(slot) { writer, block in writer.writeBlockReference(block) }
            }
        }
    }

    /// A presence bitmask (`AttributeChangeField`), then each present field in bit order.
    public mutating func writeAttributeChanges(_ changes: AttributeChanges) {
        var mask: UInt8 = 0
        if changes.permissions != nil { mask |= AttributeChangeField.permissions }
        if changes.uid != nil { mask |= AttributeChangeField.uid }
        if changes.gid != nil { mask |= AttributeChangeField.gid }
        if changes.size != nil { mask |= AttributeChangeField.size }
        if changes.atime != nil { mask |= AttributeChangeField.atime }
        if changes.mtime != nil { mask |= AttributeChangeField.mtime }
        writeUInt8(mask)
        if let permissions = changes.permissions { writeVarint(permissions) }
        if let uid = changes.uid { writeVarint(uid) }
        if let gid = changes.gid { writeVarint(gid) }
        if let size = changes.size { writeVarint(size) }
        if let atime = changes.atime { writeTimestamp(atime) }
        if let mtime = changes.mtime { writeTimestamp(mtime) }
    }
}

extension BinaryReader {
    public mutating func readInode() throws(FormatDecodingError) -> InodeNumber {
        try readVarint()
    }

    public mutating func readTimestamp() throws(FormatDecodingError) -> Timestamp {
        try readInt64()
    }

    public mutating func readName() throws(FormatDecodingError) -> SealedName {
        SealedName(try readBytes())
    }

    public mutating func readKind() throws(FormatDecodingError) -> FileKind {
        let start = position
        let raw = try readUInt8()
        guard let kind = FileKind(rawValue: raw) else { throw .malformed("file kind \(raw) at \(start)") }
        return kind
    }

    public mutating func readDirectoryID() throws(FormatDecodingError) -> DirectoryID {
        let high = try readUInt64()
        return DirectoryID(high: high, low: try readUInt64())
    }

    public mutating func readObjectID() throws(FormatDecodingError) -> ObjectID {
        let high = try readUInt64()
        return ObjectID(high: high, low: try readUInt64())
    }

    public mutating func readBlockReference() throws(FormatDecodingError) -> BlockReference {
        let id = try readObjectID()
        let start = position
        let lengthAndFlags = try readVarint()
        let known = BlockReferenceFlag.packed | BlockReferenceFlag.compact | UInt64(UInt32.max)
        let packed = lengthAndFlags & BlockReferenceFlag.packed != 0
        let compact = lengthAndFlags & BlockReferenceFlag.compact != 0
        guard lengthAndFlags & ~known == 0, packed || !compact else {
            throw .malformed("block length field \(lengthAndFlags) at \(start) has unknown bits")
        }
        var block = BlockReference(id: id, length: UInt32(truncatingIfNeeded: lengthAndFlags))
        if packed {
            let pack = try readObjectID()
            let placement: PackLocation.Placement = compact
                ? .compact(byteOffset: try readVarintUInt32("byte offset in pack"))
                : .chunkAligned(firstChunk: try readVarintUInt32("first chunk in pack"))
            block.pack = PackLocation(object: pack, placement: placement)
        }
        return block
    }

    public mutating func readContent() throws(FormatDecodingError) -> FileContent {
        let start = position
        let raw = try readUInt8()
        switch FileContentTag(rawValue: raw) {
        case .inline:
            return .inline(try readBytes())
        case .blocks:
            let count = try readLength("block slot count")
            try checkCount(count, minimumSize: 1, "block slots")
            var slots: [BlockReference?] = []
            slots.reserveCapacity(count)
            for _ in 0 ..< count {
                slots.append(try readOptional { (reader: inout BinaryReader) throws(FormatDecodingError) in
                    try reader.readBlockReference()
                })
            }
            return .blocks(slots)
        case nil:
            throw .malformed("file content tag \(raw) at \(start)")
        }
    }

    public mutating func readAttributeChanges() throws(FormatDecodingError) -> AttributeChanges {
        let start = position
        let mask = try readUInt8()
        guard mask & ~AttributeChangeField.all == 0 else {
            throw .malformed("attribute change mask \(mask) at \(start) has unknown bits")
        }
        var changes = AttributeChanges()
        if mask & AttributeChangeField.permissions != 0 { changes.permissions = try readVarintUInt32("permissions") }
        if mask & AttributeChangeField.uid != 0 { changes.uid = try readVarintUInt32("uid") }
        if mask & AttributeChangeField.gid != 0 { changes.gid = try readVarintUInt32("gid") }
        if mask & AttributeChangeField.size != 0 { changes.size = try readVarint() }
        if mask & AttributeChangeField.atime != 0 { changes.atime = try readTimestamp() }
        if mask & AttributeChangeField.mtime != 0 { changes.mtime = try readTimestamp() }
        return changes
    }
}

enum FileContentTag: UInt8 {
    case inline = 0
    case blocks = 1
}

/// Bits of the `setAttributes` presence mask, in the order the present fields follow it.
enum AttributeChangeField {
    static let permissions: UInt8 = 1 << 0
    static let uid: UInt8 = 1 << 1
    static let gid: UInt8 = 1 << 2
    static let size: UInt8 = 1 << 3
    static let atime: UInt8 = 1 << 4
    static let mtime: UInt8 = 1 << 5
    static let all: UInt8 = 0b11_1111
}

/// Flags carried above the 32 bits of a block reference's length field.
enum BlockReferenceFlag {
    static let packed: UInt64 = 1 << 32
    /// Only with `packed`: the member is compact and located by byte offset (version 3).
    static let compact: UInt64 = 1 << 33
}
