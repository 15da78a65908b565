import Erasure
import Foundation

/// A 128-bit object name. Printed and stored as 32 lowercase hex digits.
public struct ObjectID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A fresh random id (system CSPRNG).
    public static func random() -> ObjectID {
        var generator = SystemRandomNumberGenerator()
        return ObjectID(high: generator.next(), low: generator.next())
    }

    /// Exactly 32 hex digits (either case); anything else, signs included, is refused.
    public init?(hex: some StringProtocol) {
        guard hex.utf8.count == 32, hex.utf8.allSatisfy({ $0.isHexDigit }),
              let high = UInt64(hex.prefix(16), radix: 16),
              let low = UInt64(hex.suffix(16), radix: 16) else { return nil }
        self.init(high: high, low: low)
    }

    public var hex: String {
        Self.paddedHex(high) + Self.paddedHex(low)
    }

    /// Two hex digits that spread objects over 256 directories per volume.
    var fanOutDirectory: String { String(hex.prefix(2)) }

    public var description: String { hex }

    public static func < (a: ObjectID, b: ObjectID) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }

    func checksumSeed(stripe: Int, shard: Int) -> UInt64 {
        ShardChecksum.seed(objectLow: low, objectHigh: high, stripe: stripe, shard: shard)
    }

    private static func paddedHex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (0x30 ... 0x39).contains(self) || (0x41 ... 0x46).contains(self) || (0x61 ... 0x66).contains(self)
    }
}
