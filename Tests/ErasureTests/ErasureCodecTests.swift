import Erasure
import Testing
import SeededRandom

/// Every subset of `0..<n` with at most `limit` members.
func subsets(of n: Int, atMost limit: Int) -> [ShardMask] {
    (0 ..< UInt32(1 << n)).map(ShardMask.init(rawValue:)).filter { $0.count <= limit }
}

/// A stripe with random data shards and freshly encoded parity.
func encodedStripe(_ codec: ErasureCodec, shardLength: Int, seed: UInt64) -> [UInt8] {
    var random = SplitMix64(seed: seed)
    var stripe = [UInt8](repeating: 0, count: codec.stripeByteCount(shardLength: shardLength))
    for i in 0 ..< codec.dataShards * shardLength { stripe[i] = UInt8.random(in: 0 ... 255, using: &random) }
    stripe.withUnsafeMutableBytes { codec.encode(stripe: $0.baseAddress!, shardLength: shardLength) }
    return stripe
}

@Suite struct ErasureCodecTests {
    @Test(arguments: [(1, 0), (1, 1), (1, 3), (2, 1), (2, 2), (3, 2), (4, 2), (5, 3), (6, 3), (8, 3), (4, 4)])
    func everyErasurePatternUpToMIsRebuilt(k: Int, m: Int) throws {
        let codec = try ErasureCodec(dataShards: k, parityShards: m)
        for shardLength in [1, 7, 33, 4097] {
            let seed = UInt64(k * 1000 + m * 100 + shardLength)
            let original = encodedStripe(codec, shardLength: shardLength, seed: seed)
            for lost in subsets(of: k + m, atMost: m) where !lost.isEmpty {
                var damaged = original
                for shard in lost.indices {
                    for i in 0 ..< shardLength { damaged[shard * shardLength + i] = 0xA5 }
                }
                let available = ShardMask((0 ..< k + m).filter { !lost.contains($0) })
                try damaged.withUnsafeMutableBytes {
                    try codec.reconstruct(stripe: $0.baseAddress!, shardLength: shardLength,
                                          available: available, targets: lost)
                }
                #expect(damaged == original, "k=\(k) m=\(m) len=\(shardLength) lost=\(lost) seed=\(seed)")
            }
        }
    }

    @Test(arguments: [(10, 4), (12, 8), (16, 8), (16, 0)])
    func randomErasurePatternsOnWideGeometries(k: Int, m: Int) throws {
        let codec = try ErasureCodec(dataShards: k, parityShards: m)
        var random = SplitMix64(seed: UInt64(k * 31 + m))
        let shardLength = 1021
        let original = encodedStripe(codec, shardLength: shardLength, seed: UInt64(k + m))
        for round in 0 ..< 200 {
            let lostCount = Int.random(in: 0 ... m, using: &random)
            let lost = ShardMask(Array(0 ..< k + m).shuffled(using: &random).prefix(lostCount))
            var damaged = original
            for shard in lost.indices { for i in 0 ..< shardLength { damaged[shard * shardLength + i] = 0 } }
            let available = ShardMask((0 ..< k + m).filter { !lost.contains($0) })
            try damaged.withUnsafeMutableBytes {
                try codec.reconstruct(stripe: $0.baseAddress!, shardLength: shardLength, available: available, targets: lost)
            }
            #expect(damaged == original, "k=\(k) m=\(m) round=\(round) lost=\(lost)")
        }
    }

    @Test func onlyRequestedTargetsAreWritten() throws {
        let codec = try ErasureCodec(dataShards: 4, parityShards: 2)
        let shardLength = 64
        let original = encodedStripe(codec, shardLength: shardLength, seed: 9)
        var damaged = original
        for i in 0 ..< shardLength { damaged[1 * shardLength + i] = 0; damaged[5 * shardLength + i] = 0 }
        try damaged.withUnsafeMutableBytes {
            try codec.reconstruct(stripe: $0.baseAddress!, shardLength: shardLength,
                                  available: ShardMask([0, 2, 3, 4]), targets: ShardMask([1]))
        }
        #expect(damaged[shardLength ..< 2 * shardLength] == original[shardLength ..< 2 * shardLength])
        #expect(damaged[5 * shardLength ..< 6 * shardLength].allSatisfy { $0 == 0 })
    }

    @Test func dataShardsAreStoredVerbatim() throws {
        let codec = try ErasureCodec(dataShards: 3, parityShards: 2)
        var stripe = [UInt8](repeating: 0, count: codec.stripeByteCount(shardLength: 5))
        for i in 0 ..< 15 { stripe[i] = UInt8(i) }
        stripe.withUnsafeMutableBytes { codec.encode(stripe: $0.baseAddress!, shardLength: 5) }
        #expect(Array(stripe[0 ..< 15]) == (0 ..< 15).map(UInt8.init))
        #expect(stripe[15...].contains { $0 != 0 })
    }

    @Test func moreThanMMissingIsAClearError() throws {
        let codec = try ErasureCodec(dataShards: 4, parityShards: 2)
        var stripe = encodedStripe(codec, shardLength: 16, seed: 3)
        #expect(throws: ErasureError.tooManyMissing(missing: 3, parityShards: 2)) {
            try stripe.withUnsafeMutableBytes {
                try codec.reconstruct(stripe: $0.baseAddress!, shardLength: 16,
                                      available: ShardMask([0, 4, 5]), targets: ShardMask([1, 2, 3]))
            }
        }
    }

    @Test(arguments: [(0, 1), (17, 0), (4, 9), (-1, 2)])
    func unsupportedGeometriesAreRefused(k: Int, m: Int) {
        #expect(throws: ErasureError.unsupportedGeometry(dataShards: k, parityShards: m)) {
            _ = try ErasureCodec(dataShards: k, parityShards: m)
        }
    }

    @Test func shardLengthRoundsUp() throws {
        let codec = try ErasureCodec(dataShards: 4, parityShards: 2)
        #expect(codec.shardLength(forPayload: 0) == 1)
        #expect(codec.shardLength(forPayload: 4) == 1)
        #expect(codec.shardLength(forPayload: 5) == 2)
        #expect(codec.shardLength(forPayload: 1 << 20) == 1 << 18)
    }
}

import CXXHash

@Suite struct ChecksumDispatchTests {
    /// The runtime-dispatched XXH3 (AVX2/AVX-512) must equal the portable one bit for bit:
    /// shards written on one machine are verified on another.
    @Test func dispatchedAndPortableXXH3Agree() throws {
        let codec = try ErasureCodec(dataShards: 4, parityShards: 2)
        for length in [0, 1, 15, 16, 17, 128, 129, 240, 241, 1024, 4097, 65536, 262_145] {
            var stripe = encodedStripe(codec, shardLength: max(1, length), seed: UInt64(length))
            stripe.withUnsafeMutableBytes { codec.encode(stripe: $0.baseAddress!, shardLength: max(1, length)) }
            let bytes = Array(stripe.prefix(length))
            let ours = bytes.withUnsafeBytes { ShardChecksum(of: $0, seed: 99) }
            let portable = bytes.withUnsafeBytes { XXH3_128bits_withSeed($0.baseAddress, $0.count, 99) }
            #expect(ours == ShardChecksum(low: portable.low64, high: portable.high64), "length \(length)")
        }
    }
}
