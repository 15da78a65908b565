// The 16-byte identities the ciphers bind ciphertext to. They are separate types so a block
// id can never be passed where a directory id is meant; VaultCrypto does not depend on
// VolumePool, so the Vault converts its object ids with `init(high:low:)`.

/// Shared behaviour of the 128-bit identifiers: big-endian byte order, so `bytes` reads in
/// the same order as the hex a person sees.
public protocol Identifier128: Hashable, Sendable, CustomStringConvertible {
    var high: UInt64 { get }
    var low: UInt64 { get }
    init(high: UInt64, low: UInt64)
}

extension Identifier128 {
    /// From exactly 16 bytes, most significant first.
    public init(bytes: some Collection<UInt8>) {
        precondition(bytes.count == 16, "a 128-bit identifier needs 16 bytes, got \(bytes.count)")
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (position, byte) in bytes.enumerated() {
            if position < 8 {
                high = high << 8 | UInt64(byte)
            } else {
                low = low << 8 | UInt64(byte)
            }
        }
        self.init(high: high, low: low)
    }

    /// A random identifier (tests; the Vault makes its own ids).
    public static func random() -> Self {
        var generator = SystemRandomNumberGenerator()
        return Self(high: generator.next(), low: generator.next())
    }

    /// The 16 bytes on the stack, most significant first; no allocation.
    public func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let bigEndian = (high.bigEndian, low.bigEndian)
        return try Swift.withUnsafeBytes(of: bigEndian) { (raw) throws(Failure) -> Result in try body(raw) }
    }

    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    public var description: String {
        let digits = String(high, radix: 16) + "|" + String(low, radix: 16)
        let parts = digits.split(separator: "|").map { String(repeating: "0", count: 16 - $0.count) + $0 }
        return parts.joined()
    }
}

/// A directory's stable id: associated data for the names of its children.
public struct DirectoryID: Identifier128 {
    public let high: UInt64
    public let low: UInt64
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
}

/// A content block's id: associated data for each of its chunks.
public struct BlockID: Identifier128 {
    public let high: UInt64
    public let low: UInt64
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
}
