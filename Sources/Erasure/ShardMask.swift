/// A set of shard indices (0 ..< 32), used to name which shards of a stripe are missing.
public struct ShardMask: Hashable, Sendable, CustomStringConvertible {
    public private(set) var rawValue: UInt32

    public init(rawValue: UInt32 = 0) { self.rawValue = rawValue }

    public init(_ indices: some Sequence<Int>) {
        self.rawValue = 0
        for index in indices { insert(index) }
    }

    public static let empty = ShardMask()

    public var isEmpty: Bool { rawValue == 0 }
    public var count: Int { rawValue.nonzeroBitCount }

    public func contains(_ index: Int) -> Bool { rawValue & (1 << UInt32(index)) != 0 }
    public mutating func insert(_ index: Int) { rawValue |= 1 << UInt32(index) }
    public mutating func remove(_ index: Int) { rawValue &= ~(1 << UInt32(index)) }

    /// The `count` lowest members (all of them when there are fewer). Allocation-free, as it
    /// runs once per reconstructed stripe.
    public func lowest(_ count: Int) -> ShardMask {
        var remaining = rawValue
        var result: UInt32 = 0
        for _ in 0 ..< count where remaining != 0 {
            let lowestBit = remaining & (~remaining &+ 1)
            result |= lowestBit
            remaining &= ~lowestBit
        }
        return ShardMask(rawValue: result)
    }

    /// Indices in ascending order.
    public var indices: [Int] { (0 ..< 32).filter(contains) }

    public var description: String { "[" + indices.map(String.init).joined(separator: ",") + "]" }
}
