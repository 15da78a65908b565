import Erasure
import Testing
import SeededRandom

@Suite struct ShardChecksumTests {
    @Test func everySingleBitFlipIsCaught() {
        var random = SplitMix64(seed: 42)
        var bytes = (0 ..< 4096).map { _ in UInt8.random(in: 0 ... 255, using: &random) }
        let reference = bytes.withUnsafeBytes { ShardChecksum(of: $0, seed: 7) }
        for bit in 0 ..< bytes.count * 8 {
            bytes[bit / 8] ^= 1 << UInt8(bit % 8)
            let flipped = bytes.withUnsafeBytes { ShardChecksum(of: $0, seed: 7) }
            #expect(flipped != reference, "bit \(bit) flip not detected")
            bytes[bit / 8] ^= 1 << UInt8(bit % 8)
        }
        #expect(bytes.withUnsafeBytes { ShardChecksum(of: $0, seed: 7) } == reference)
    }

    @Test func truncationAndPositionAreCaught() {
        let bytes = [UInt8](repeating: 0x5A, count: 1000)
        let whole = bytes.withUnsafeBytes { ShardChecksum(of: $0, seed: 1) }
        let shorter = bytes.withUnsafeBytes { ShardChecksum(of: UnsafeRawBufferPointer(rebasing: $0[0 ..< 999]), seed: 1) }
        #expect(whole != shorter)
        let seedA = ShardChecksum.seed(objectLow: 1, objectHigh: 2, stripe: 0, shard: 1)
        let seedB = ShardChecksum.seed(objectLow: 1, objectHigh: 2, stripe: 1, shard: 0)
        let seedC = ShardChecksum.seed(objectLow: 1, objectHigh: 3, stripe: 0, shard: 1)
        #expect(Set([seedA, seedB, seedC]).count == 3)
        let a = bytes.withUnsafeBytes { ShardChecksum(of: $0, seed: seedA) }
        let b = bytes.withUnsafeBytes { ShardChecksum(of: $0, seed: seedB) }
        #expect(a != b)
    }

    @Test func storeAndLoadRoundTrip() {
        let checksum = ShardChecksum(low: 0x0102_0304_0506_0708, high: 0xF0E0_D0C0_B0A0_9080)
        var raw = [UInt8](repeating: 0, count: 16)
        raw.withUnsafeMutableBytes { checksum.store(to: $0) }
        #expect(raw[0] == 0x08 && raw[15] == 0xF0)
        #expect(raw.withUnsafeBytes { ShardChecksum(loading: $0) } == checksum)
        #expect(checksum.description == "f0e0d0c0b0a090800102030405060708")
    }
}

@Suite struct ShardMaskTests {
    @Test func lowestTakesTheSmallestMembers() {
        let mask = ShardMask([1, 3, 4, 9, 31])
        #expect(mask.lowest(0) == .empty)
        #expect(mask.lowest(2) == ShardMask([1, 3]))
        #expect(mask.lowest(5) == mask)
        #expect(mask.lowest(9) == mask)
    }
}
