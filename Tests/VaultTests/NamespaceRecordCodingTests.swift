import VaultCrypto
import Testing
import VolumePool
@testable import Vault
import SeededRandom

/// One record of every case, with the awkward values each field can take.
func everyRecordCase() -> [NamespaceRecord] {
    let name = SealedName((0 ..< 20).map { UInt8($0 * 13 & 0xFF) })
    let creation = NamespaceRecord.Creation(
        parent: 1, name: name, inode: 2, kind: .regular, permissions: 0o644, uid: 1000, gid: 1000,
        time: 1_700_000_000_123_456_789, directoryID: nil, symlinkTarget: nil, symlinkLength: 0)
    var directory = creation
    directory.kind = .directory
    directory.inode = .max
    directory.directoryID = DirectoryID(high: 0x0123_4567_89AB_CDEF, low: .max)
    var symlink = creation
    symlink.kind = .symlink
    symlink.symlinkTarget = [9, 8, 7, 0, 255]
    symlink.symlinkLength = 4096
    var emptySymlink = symlink
    emptySymlink.symlinkTarget = []
    emptySymlink.symlinkLength = 0
    var fifo = creation
    fifo.kind = .fifo
    fifo.name = SealedName([])
    fifo.uid = .max
    fifo.gid = .max
    fifo.permissions = 0o7777
    fifo.time = .min

    let block = BlockReference(id: ObjectID(high: .max, low: 42), length: .max)
    let packed = BlockReference(id: ObjectID(high: 7, low: 8), length: 65_536,
                                pack: PackLocation(object: ObjectID(high: .max, low: 0), placement: .chunkAligned(firstChunk: .max)))
    let compact = BlockReference(id: ObjectID(high: 9, low: 10), length: 1,
                                 pack: PackLocation(object: ObjectID(high: 0, low: .max), placement: .compact(byteOffset: .max)))
    var records: [NamespaceRecord] = [
        .create(creation), .create(directory), .create(symlink), .create(emptySymlink), .create(fifo),
        .link(inode: 7, parent: 1, name: name, time: -1),
        .unlink(parent: .max, name: SealedName([0]), time: .max),
        .setContent(inode: 3, content: .empty, size: 0, time: 5),
        .setBlock(inode: 3, index: 0, block: block, size: 4 << 20, time: 6),
        .setBlock(inode: .max, index: 1_000_000, block: nil, size: .max, time: .min),
        .setBlock(inode: 4, index: 0, block: packed, size: 65_536, time: 6),
        .setBlock(inode: 4, index: 1, block: compact, size: 4 << 20 + 1, time: 6),
        .setContent(inode: 3, content: .inline([UInt8](repeating: 0xEE, count: 300)), size: 300, time: 5),
        .setContent(inode: 3, content: .blocks([]), size: 0, time: 5),
        .setContent(inode: 3, content: .blocks([nil, block, nil, nil, BlockReference(id: .init(high: 0, low: 0), length: 0), packed, compact]),
                    size: .max, time: 5),
        .setXattr(inode: 3, name: "user.é✓", value: [], time: 6),
        .setXattr(inode: 3, name: "", value: [UInt8](repeating: 1, count: 200), time: 6),
        .removeXattr(inode: 3, name: "user.colour", time: 7),
        .release(inode: 0),
        .release(inode: .max),
    ]
    for mode in [RenameMode.replace, .noReplace, .exchange] {
        records.append(.rename(from: 1, fromName: name, to: 300, toName: SealedName([1, 2]), mode: mode, time: 8))
    }
    // Every subset of the optional attribute fields.
    for mask in 0 ..< 64 {
        let changes = AttributeChanges(
            permissions: mask & 1 != 0 ? 0o4755 : nil, uid: mask & 2 != 0 ? .max : nil,
            gid: mask & 4 != 0 ? 0 : nil, size: mask & 8 != 0 ? 1 << 50 : nil,
            atime: mask & 16 != 0 ? .min : nil, mtime: mask & 32 != 0 ? -5 : nil)
        records.append(.setAttributes(inode: UInt64(mask), changes: changes, time: Int64(mask)))
    }
    return records
}

@Suite struct NamespaceRecordCodingTests {
    @Test func everyCaseRoundTripsAlone() throws {
        for record in everyRecordCase() {
            let bytes = NamespaceRecord.encodeRecords([record])
            #expect(try NamespaceRecord.decodeRecords(bytes) == [record], "\(record)")
            var writer = BinaryWriter()
            record.encode(into: &writer)
            var reader = BinaryReader(writer.bytes)
            #expect(try NamespaceRecord(from: &reader) == record)
            #expect(reader.isAtEnd)
        }
    }

    @Test func batchesRoundTrip() throws {
        let records = everyRecordCase()
        #expect(try NamespaceRecord.decodeRecords(NamespaceRecord.encodeRecords(records)) == records)
        #expect(try NamespaceRecord.decodeRecords(NamespaceRecord.encodeRecords([])) == [])
        #expect(NamespaceRecord.encodeRecords([]) == [NamespaceRecord.batchFormatVersion, 0])
    }

    @Test func documentedLayoutOfAnUnlink() {
        // docs/FORMAT-vault.md: version, count, tag 3, parent varint, name, time (8 LE).
        let bytes = NamespaceRecord.encodeRecords([.unlink(parent: 300, name: SealedName([0xAA, 0xBB]), time: 1)])
        #expect(bytes == [3, 1, 3, 0xAC, 0x02, 2, 0xAA, 0xBB, 1, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func documentedLayoutOfAPackedBlockSlot() throws {
        // docs/FORMAT-vault.md, "Values": id, length with bit 32 set, pack id, first chunk.
        let block = BlockReference(id: ObjectID(high: 0, low: 1), length: 5,
                                   pack: PackLocation(object: ObjectID(high: 0, low: 2), placement: .chunkAligned(firstChunk: 3)))
        let bytes = NamespaceRecord.encodeRecords([.setBlock(inode: 9, index: 0, block: block, size: 5, time: 0)])
        let id: (UInt8) -> [UInt8] = { [0, 0, 0, 0, 0, 0, 0, 0, $0, 0, 0, 0, 0, 0, 0, 0] }
        #expect(bytes == [3, 1, 10, 9, 0, 1] + id(1) + [0x85, 0x80, 0x80, 0x80, 0x10] + id(2) + [3, 5] + [UInt8](repeating: 0, count: 8))
        #expect(try NamespaceRecord.decodeRecords(bytes) == [.setBlock(inode: 9, index: 0, block: block, size: 5, time: 0)])
    }

    @Test func documentedLayoutOfACompactBlockSlot() throws {
        // docs/FORMAT-vault.md, "Values": id, length with bits 32 and 33 set, pack id, byte offset.
        let block = BlockReference(id: ObjectID(high: 0, low: 1), length: 5,
                                   pack: PackLocation(object: ObjectID(high: 0, low: 2), placement: .compact(byteOffset: 300)))
        let bytes = NamespaceRecord.encodeRecords([.setBlock(inode: 9, index: 0, block: block, size: 5, time: 0)])
        let id: (UInt8) -> [UInt8] = { [0, 0, 0, 0, 0, 0, 0, 0, $0, 0, 0, 0, 0, 0, 0, 0] }
        #expect(bytes == [3, 1, 10, 9, 0, 1] + id(1) + [0x85, 0x80, 0x80, 0x80, 0x30] + id(2) + [0xAC, 0x02, 5]
            + [UInt8](repeating: 0, count: 8))
        #expect(try NamespaceRecord.decodeRecords(bytes) == [.setBlock(inode: 9, index: 0, block: block, size: 5, time: 0)])
    }

    @Test func versionTwoBatchesReadTheirChunkAlignedMembers() throws {
        // Written by builds before compact members: the same bytes under version 2.
        let block = BlockReference(id: ObjectID(high: 0, low: 1), length: 40_000,
                                   pack: PackLocation(object: ObjectID(high: 0, low: 2), placement: .chunkAligned(firstChunk: 7)))
        let records: [NamespaceRecord] = [.setBlock(inode: 9, index: 0, block: block, size: 40_000, time: 0)]
        let versionTwo = [2] + NamespaceRecord.encodeRecords(records).dropFirst()
        #expect(try NamespaceRecord.decodeRecords(versionTwo) == records)
    }

    @Test func versionOneBatchesStillDecode() throws {
        // Written by earlier builds: same layout, no packed blocks.
        let unpacked = BlockReference(id: ObjectID(high: 1, low: 2), length: 4096)
        let records: [NamespaceRecord] = [.setBlock(inode: 9, index: 2, block: unpacked, size: 1 << 23, time: 4),
                                          .unlink(parent: 300, name: SealedName([0xAA, 0xBB]), time: 1)]
        let versionOne = [1] + NamespaceRecord.encodeRecords(records).dropFirst()
        #expect(try NamespaceRecord.decodeRecords(versionOne) == records)
    }

    @Test func unknownBitsInABlockLengthFieldAreRefused() {
        let block = BlockReference(id: ObjectID(high: 0, low: 1), length: 5)
        let bytes = NamespaceRecord.encodeRecords([.setBlock(inode: 9, index: 0, block: block, size: 5, time: 0)])
        let lengthOffset = 6 + 16
        #expect(bytes[lengthOffset] == 5)
        for high: UInt8 in [0x20, 0x40] {  // bit 33 (compact) without bit 32 (packed); bit 34
            var changed = bytes
            changed.replaceSubrange(lengthOffset ... lengthOffset, with: [0x85, 0x80, 0x80, 0x80, high])
            expectDecodingError(matching: isMalformed) { _ = try NamespaceRecord.decodeRecords(changed) }
        }
    }

    @Test func unknownVersionTagsAndModesThrow() {
        let good = NamespaceRecord.encodeRecords([.release(inode: 5)])
        expectDecodingError(matching: { $0 == .unsupportedVersion(what: "namespace record batch", found: 4, supported: 3) }) {
            _ = try NamespaceRecord.decodeRecords([4] + good.dropFirst())
        }
        expectDecodingError(matching: isMalformed) { _ = try NamespaceRecord.decodeRecords([1, 1, 0, 5]) }
        expectDecodingError(matching: isMalformed) { _ = try NamespaceRecord.decodeRecords([1, 1, 11, 5]) }
        expectDecodingError(matching: isMalformed) { _ = try NamespaceRecord.decodeRecords(good + [0]) }
        expectDecodingError(matching: isMalformed) { _ = try NamespaceRecord.decodeRecords([1, 200, 9, 5]) }
        var rename = NamespaceRecord.encodeRecords([.rename(from: 1, fromName: SealedName([]), to: 1,
                                                            toName: SealedName([]), mode: .exchange, time: 0)])
        rename[7] = 3  // version, count, tag, from, len, to, len, mode
        expectDecodingError(matching: isMalformed) { _ = try NamespaceRecord.decodeRecords(rename) }
    }

    @Test func aDirectoryCreationWithoutAnIdIsRefused() throws {
        guard case let .create(creation) = everyRecordCase()[1] else { Issue.record("not a create"); return }
        var bytes = NamespaceRecord.encodeRecords([.create(creation)])
        // Flip the kind byte from directory to regular: the id is now unexpected.
        let kindOffset = 2 + 1 + 1 + 1 + 20 + 10
        #expect(bytes[kindOffset] == FileKind.directory.rawValue)
        bytes[kindOffset] = FileKind.regular.rawValue
        expectDecodingError(matching: isMalformed) { _ = try NamespaceRecord.decodeRecords(bytes) }
    }

    @Test func everyTruncationOfABatchThrows() {
        let bytes = NamespaceRecord.encodeRecords(everyRecordCase())
        for length in 0 ..< bytes.count {
            expectDecodingError { _ = try NamespaceRecord.decodeRecords(Array(bytes[..<length])) }
        }
    }

    @Test func randomByteFlipsNeverTrap() {
        let original = NamespaceRecord.encodeRecords(everyRecordCase())
        var random = SplitMix64(seed: 0xF11F)
        var decoded = 0
        for _ in 0 ..< 3000 {
            var bytes = original
            for _ in 0 ..< Int.random(in: 1 ... 4, using: &random) {
                bytes[Int.random(in: 0 ..< bytes.count, using: &random)] ^= UInt8.random(in: 1 ... 255, using: &random)
            }
            if (try? NamespaceRecord.decodeRecords(bytes)) != nil { decoded += 1 }
        }
        // Most flips land in payload bytes (names, values, times), which still decode.
        #expect(decoded > 0)
    }
}
