import CXXHash
import Erasure

/// How an object of a given length is cut into stripes and shard chunks. Every full stripe
/// carries `stripeSize` bytes and gives each shard a chunk of ceil(stripeSize / k) bytes; the
/// last stripe may be shorter. Chunk offsets are therefore computable without an index.
struct ObjectGeometry: Equatable, Sendable {
    let objectLength: Int
    let stripeSize: Int
    let dataShards: Int

    var stripeCount: Int { (objectLength + stripeSize - 1) / stripeSize }
    var fullChunkLength: Int { (stripeSize + dataShards - 1) / dataShards }

    func payload(ofStripe stripe: Int) -> Int {
        min(stripeSize, objectLength - stripe * stripeSize)
    }

    func chunkLength(ofStripe stripe: Int) -> Int {
        (payload(ofStripe: stripe) + dataShards - 1) / dataShards
    }

    func chunkOffset(ofStripe stripe: Int) -> Int { stripe * fullChunkLength }

    var dataBytesPerShard: Int {
        stripeCount == 0 ? 0 : chunkOffset(ofStripe: stripeCount - 1) + chunkLength(ofStripe: stripeCount - 1)
    }

    var checksumTableLength: Int { stripeCount * ShardChecksum.byteCount }

    /// Exact size of every shard file of the object: chunks, checksum table, trailer.
    var shardFileSize: Int { dataBytesPerShard + checksumTableLength + ShardTrailer.byteCount }

    /// Stripes overlapping `range` of the object.
    func stripes(covering range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else { return 0 ..< 0 }
        return (range.lowerBound / stripeSize) ..< ((range.upperBound - 1) / stripeSize + 1)
    }
}

/// The fixed 64-byte record that ends every shard file (format in docs/FORMAT-pool.md).
struct ShardTrailer: Equatable, Sendable {
    static let byteCount = 64
    static let magic: UInt64 = 0x3144_5241_4853_5653  // "SVSHARD1" little-endian
    static let currentVersion: UInt16 = 1

    var shardIndex: Int
    var dataShards: Int
    var parityShards: Int
    var objectID: ObjectID
    var objectLength: Int
    var stripeSize: Int
    /// When the write that produced this shard started (ns since the epoch); the newest
    /// generation with at least k intact shards is the object's current content.
    var generation: UInt64

    var geometry: ObjectGeometry {
        ObjectGeometry(objectLength: objectLength, stripeSize: stripeSize, dataShards: dataShards)
    }

    /// Serialises the trailer; its last field seals the checksum table and the trailer itself.
    func encode(checksumTable: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= Self.byteCount)
        out.storeBytes(of: Self.magic.littleEndian, toByteOffset: 0, as: UInt64.self)
        out.storeBytes(of: Self.currentVersion.littleEndian, toByteOffset: 8, as: UInt16.self)
        out.storeBytes(of: UInt8(shardIndex), toByteOffset: 10, as: UInt8.self)
        out.storeBytes(of: UInt8(dataShards), toByteOffset: 11, as: UInt8.self)
        out.storeBytes(of: UInt8(parityShards), toByteOffset: 12, as: UInt8.self)
        for offset in 13 ..< 16 { out.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self) }
        out.storeBytes(of: objectID.high.littleEndian, toByteOffset: 16, as: UInt64.self)
        out.storeBytes(of: objectID.low.littleEndian, toByteOffset: 24, as: UInt64.self)
        out.storeBytes(of: UInt64(objectLength).littleEndian, toByteOffset: 32, as: UInt64.self)
        out.storeBytes(of: UInt32(stripeSize).littleEndian, toByteOffset: 40, as: UInt32.self)
        out.storeBytes(of: UInt32(geometry.stripeCount).littleEndian, toByteOffset: 44, as: UInt32.self)
        out.storeBytes(of: generation.littleEndian, toByteOffset: 48, as: UInt64.self)
        let seal = Self.seal(checksumTable: checksumTable, head: UnsafeRawBufferPointer(rebasing: out[0 ..< 56]))
        out.storeBytes(of: seal.littleEndian, toByteOffset: 56, as: UInt64.self)
    }

    enum DecodeFailure: Error, Equatable {
        case notAShard, unknownVersion(Int), sealMismatch, implausible(String)
    }

    /// Parses and checks the trailer `raw` against the checksum table that precedes it.
    /// The table length is only known after the head is parsed, so callers first call
    /// `decodeHead`, fetch the table, then `verifySeal`.
    static func decodeHead(_ raw: UnsafeRawBufferPointer) throws(DecodeFailure) -> ShardTrailer {
        guard raw.count >= byteCount else { throw .notAShard }
        func load<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        guard load(0, UInt64.self) == magic else { throw .notAShard }
        let version = load(8, UInt16.self)
        guard version == currentVersion else { throw .unknownVersion(Int(version)) }
        let trailer = ShardTrailer(
            shardIndex: Int(load(10, UInt8.self)), dataShards: Int(load(11, UInt8.self)),
            parityShards: Int(load(12, UInt8.self)),
            objectID: ObjectID(high: load(16, UInt64.self), low: load(24, UInt64.self)),
            objectLength: Int(clamping: load(32, UInt64.self)), stripeSize: Int(load(40, UInt32.self)),
            generation: load(48, UInt64.self))
        guard trailer.dataShards >= 1, trailer.stripeSize >= 1, trailer.objectLength < 1 << 50,
              Int(load(44, UInt32.self)) == trailer.geometry.stripeCount else {
            throw .implausible("geometry fields disagree")
        }
        return trailer
    }

    static func verifySeal(trailer raw: UnsafeRawBufferPointer, checksumTable: UnsafeRawBufferPointer) throws(DecodeFailure) {
        let stored = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 56, as: UInt64.self))
        guard stored == seal(checksumTable: checksumTable, head: UnsafeRawBufferPointer(rebasing: raw[0 ..< 56])) else {
            throw .sealMismatch
        }
    }

    private static func seal(checksumTable: UnsafeRawBufferPointer, head: UnsafeRawBufferPointer) -> UInt64 {
        let tableHash = XXH3_64bits(checksumTable.baseAddress, checksumTable.count)
        return XXH3_64bits_withSeed(head.baseAddress, head.count, tableHash)
    }
}
