/// Where each shard of an object lives: a deterministic permutation of the volumes, seeded by
/// the object id, so shards (and load) spread evenly and any reader can find them without a
/// lookup table. Public so tools (bench, fsck) can find shard files without a pool.
public struct Placement: Sendable {
    /// `volumeForShard[i]` is the index of the volume holding shard i.
    public let volumeForShard: [Int]

    public init(objectID: ObjectID, volumeCount: Int) {
        var order = Array(0 ..< volumeCount)
        // Fisher–Yates driven by SplitMix64 seeded from both id halves. Fixed forever: it
        // decides where existing data lives (docs/FORMAT-pool.md).
        var state = Self.mix(objectID.high) ^ objectID.low
        for i in stride(from: volumeCount - 1, to: 0, by: -1) {
            state &+= 0x9E37_79B9_7F4A_7C15
            let j = Int(Self.mix(state) % UInt64(i + 1))
            order.swapAt(i, j)
        }
        volumeForShard = order
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
