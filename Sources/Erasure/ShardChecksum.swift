import CXXHash

/// XXH3-128 checksum of one sub-block of a shard.
///
/// Why XXH3 and not BLAKE2b: these checksums find bit rot, torn and misdirected writes on a
/// volume; they are not the security boundary. Every byte the vault returns is authenticated
/// by AES-GCM/AES-SIV above this layer, so a forged shard is caught there. XXH3 hashes at
/// tens of GB/s here (BLAKE2b at about 1 GB/s), so verifying every read costs less than the
/// copy itself, and 128 bits make an accidental match negligible. The seed binds a checksum
/// to its object, stripe and shard position, so a sub-block copied from elsewhere fails too.
public struct ShardChecksum: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 16

    public var low: UInt64
    public var high: UInt64

    public init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    public init(of bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) {
        #if arch(x86_64)
        let hash = XXH3_128bits_withSeed_dispatch(bytes.baseAddress, bytes.count, seed)
        #else
        let hash = XXH3_128bits_withSeed(bytes.baseAddress, bytes.count, seed)
        #endif
        self.init(low: hash.low64, high: hash.high64)
    }

    /// Stored little-endian, low half first.
    public init(loading bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count >= Self.byteCount)
        self.init(low: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                  high: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    public func store(to bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count >= Self.byteCount)
        bytes.storeBytes(of: low.littleEndian, toByteOffset: 0, as: UInt64.self)
        bytes.storeBytes(of: high.littleEndian, toByteOffset: 8, as: UInt64.self)
    }

    /// A seed that differs for every (object, stripe, shard) position.
    public static func seed(objectLow: UInt64, objectHigh: UInt64, stripe: Int, shard: Int) -> UInt64 {
        var mixed = objectLow ^ (objectHigh &* 0x9E37_79B9_7F4A_7C15)
        mixed ^= UInt64(truncatingIfNeeded: stripe) &* 0xC2B2_AE3D_27D4_EB4F
        mixed ^= UInt64(truncatingIfNeeded: shard) &* 0x1656_67B1_9E37_79F9
        return mixed
    }

    public var description: String {
        String(high, radix: 16).leftPadded(to: 16) + String(low, radix: 16).leftPadded(to: 16)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
