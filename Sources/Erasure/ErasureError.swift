/// Why the codec refused a request. Each case says enough to act on without a debugger.
public enum ErasureError: Error, Equatable, CustomStringConvertible {
    /// k or m outside what the codec supports (1 ≤ k ≤ 16, 0 ≤ m ≤ 8).
    case unsupportedGeometry(dataShards: Int, parityShards: Int)
    /// More shards are missing than there are parity shards to rebuild them from.
    case tooManyMissing(missing: Int, parityShards: Int)
    /// The stripe buffer is smaller than n shards of the given length.
    case stripeTooSmall(needed: Int, available: Int)

    public var description: String {
        switch self {
        case let .unsupportedGeometry(k, m):
            return "unsupported erasure geometry \(k)+\(m): data shards must be 1…16 and parity shards 0…8"
        case let .tooManyMissing(missing, m):
            return "\(missing) shards missing but only \(m) parity shards exist: the stripe cannot be rebuilt"
        case let .stripeTooSmall(needed, available):
            return "stripe buffer holds \(available) bytes, \(needed) are needed"
        }
    }
}
