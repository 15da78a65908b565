import VolumePool

/// One immutable, encrypted, erasure-coded piece of a file: up to `BlockStore.blockSize` (4 MiB)
/// plaintext bytes, stored as a pool object of its own or, when small, inside a shared pack
/// (docs/FORMAT-blocks.md, "Packed blocks").
public struct BlockReference: Equatable, Sendable {
    /// The block's identity, bound into every chunk's associated data; also its pool object's
    /// id when it is not packed.
    public var id: ObjectID
    /// Plaintext bytes the block holds (the last block of a file may be short).
    public var length: UInt32
    /// Where the block's sealed chunks sit when they share a pack with other blocks.
    public var pack: PackLocation?

    public init(id: ObjectID, length: UInt32, pack: PackLocation? = nil) {
        self.id = id
        self.length = length
        self.pack = pack
    }

    /// The pool object holding the block's chunks.
    public var storageObject: ObjectID { pack?.object ?? id }
}

/// A packed block's place: the pack's pool object and where the block's sealed chunks start
/// in it (they are consecutive).
public struct PackLocation: Equatable, Sendable {
    public var object: ObjectID
    public var placement: Placement

    /// Version 3 members are compact; vaults written before keep their chunk-aligned members,
    /// which stay readable.
    public enum Placement: Equatable, Sendable {
        /// Format 2: every chunk padded to a full sealed chunk; the first is the pack's chunk
        /// number `firstChunk`.
        case chunkAligned(firstChunk: UInt32)
        /// Format 3: the last chunk sealed at its own length, the first starting at byte
        /// `byteOffset` of the pack (docs/FORMAT-blocks.md, "Packed blocks").
        case compact(byteOffset: UInt32)
    }

    public init(object: ObjectID, placement: Placement) {
        self.object = object
        self.placement = placement
    }

    /// Whether the block's last chunk is sealed at its own length rather than padded.
    public var hasCompactTail: Bool {
        if case .compact = placement { return true }
        return false
    }

    /// Byte offset of the block's first sealed chunk in the pack.
    func byteOffset(sealedChunkSize: Int) -> Int {
        switch placement {
        case let .chunkAligned(firstChunk): Int(firstChunk) * sealedChunkSize
        case let .compact(byteOffset): Int(byteOffset)
        }
    }
}

/// Where a regular file's bytes are. Block i covers [i·blockSize, (i+1)·blockSize); a nil
/// slot is a hole that reads as zeros and costs nothing on disk.
public enum FileContent: Equatable, Sendable {
    case inline([UInt8])
    case blocks([BlockReference?])

    public static let empty = FileContent.inline([])

    /// Sets slot `index` (growing the list with holes), turning inline content into blocks.
    /// In place: the list is taken out of the enum first, so a large file's list is not
    /// copied for every block sealed.
    mutating func setBlock(_ block: BlockReference?, at index: Int) {
        var slots: [BlockReference?] = []
        if case let .blocks(existing) = self { slots = existing }
        self = .empty
        if slots.count <= index { slots.append(contentsOf: repeatElement(nil, count: index + 1 - slots.count)) }
        slots[index] = block
        self = .blocks(slots)
    }

    /// Every block this content references.
    public var blocks: [BlockReference] {
        if case let .blocks(slots) = self { return slots.compactMap { $0 } }
        return []
    }

    public var blockIDs: [ObjectID] { blocks.map(\.id) }
}

/// An inode in memory.
final class Node {
    var attributes: NodeAttributes
    /// The directory holding this one (directories only; the root is its own parent).
    var parent: InodeNumber
    var directory: DirectoryContents?
    /// Sealed symlink target (symlinks only).
    var symlinkTarget: [UInt8]?
    var content: FileContent
    /// user.* extended attributes, by full name.
    var xattrs: [String: [UInt8]]

    init(attributes: NodeAttributes, parent: InodeNumber, directory: DirectoryContents? = nil,
         symlinkTarget: [UInt8]? = nil, content: FileContent = .empty, xattrs: [String: [UInt8]] = [:]) {
        self.attributes = attributes
        self.parent = parent
        self.directory = directory
        self.symlinkTarget = symlinkTarget
        self.content = content
        self.xattrs = xattrs
    }

    var isDirectory: Bool { attributes.kind == .directory }
}
