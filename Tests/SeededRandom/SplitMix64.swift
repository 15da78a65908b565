/// SplitMix64: a small, fast, reproducible generator for tests, the crash workload and the
/// bench — the same seed gives the same run, so a printed seed replays a failure. Not for
/// secrets (keys and nonces come from the system's CSPRNG).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Fills `buffer` with the next bytes of the stream, eight at a time.
    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        let words = buffer.count / 8
        for index in 0 ..< words { buffer.storeBytes(of: next().littleEndian, toByteOffset: index * 8, as: UInt64.self) }
        if words * 8 < buffer.count {
            let last = next()
            for index in words * 8 ..< buffer.count { buffer[index] = UInt8(truncatingIfNeeded: last >> (8 * UInt64(index - words * 8))) }
        }
    }

    /// `count` bytes from a fresh generator seeded with `seed`.
    public static func bytes(count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { generator.fill($0) }
        return bytes
    }
}
