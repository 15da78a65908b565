/// Where each shard of an object lives: a deterministic permutation of the volumes, seeded by
/// the object id, so shards (and load) spread evenly and any reader can find them without a
/// lookup table.
struct Placement: Sendable {
    /// `volumeForShard[i]` is the index of the volume holding shard i.
    let volumeForShard: [Int]

    init(objectID: ObjectID, volumeCount: Int) {
        var order = Array(0 ..< volumeCount)
        var state = objectID.high ^ (objectID.low &* 0x9E37_79B9_7F4A_7C15)
        // Fisher–Yates with SplitMix64; fixed forever because it decides where data lives.
        for i in stride(from: volumeCount - 1, to: 0, by: -1) {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            let j = Int(z % UInt64(i + 1))
            order.swapAt(i, j)
        }
        volumeForShard = order
    }
}
