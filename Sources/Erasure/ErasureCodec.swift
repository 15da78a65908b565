import CISAL
import Synchronization

/// Reed–Solomon k+m over GF(2^8), backed by ISA-L.
///
/// Works on a *stripe*: n = k+m shards of equal length laid out back to back in one buffer
/// (shard i starts at `i * shardLength`), so callers hand over a single pooled buffer and no
/// pointer arrays are allocated per call. The generator is a Cauchy matrix with the identity
/// on top, so data shards are stored verbatim (healthy reads never decode) and every k×k
/// submatrix is invertible (any k shards rebuild the rest).
public final class ErasureCodec: Sendable {
    public let dataShards: Int
    public let parityShards: Int
    public var totalShards: Int { dataShards + parityShards }

    public static let supportedDataShards = 1 ... 16
    public static let supportedParityShards = 0 ... 8

    /// n×k generator matrix, row-major.
    let generator: [UInt8]
    /// ISA-L expanded tables for the m parity rows.
    private let encodeTables: [UInt8]
    private let decodeTables = Mutex<[DecodePlan.Key: DecodePlan]>([:])

    public init(dataShards k: Int, parityShards m: Int) throws(ErasureError) {
        guard Self.supportedDataShards.contains(k), Self.supportedParityShards.contains(m) else {
            throw .unsupportedGeometry(dataShards: k, parityShards: m)
        }
        dataShards = k
        parityShards = m
        var matrix = [UInt8](repeating: 0, count: (k + m) * k)
        gf_gen_cauchy1_matrix(&matrix, Int32(k + m), Int32(k))
        generator = matrix
        var tables = [UInt8](repeating: 0, count: max(1, 32 * k * m))
        if m > 0 {
            matrix.withUnsafeMutableBufferPointer { rows in
                ec_init_tables(Int32(k), Int32(m), rows.baseAddress! + k * k, &tables)
            }
        }
        encodeTables = tables
    }

    /// Bytes a stripe buffer needs for shards of `shardLength`.
    public func stripeByteCount(shardLength: Int) -> Int { totalShards * shardLength }

    /// Shard length for a stripe carrying `payload` bytes: ceil(payload / k), at least 1.
    public func shardLength(forPayload payload: Int) -> Int {
        max(1, (payload + dataShards - 1) / dataShards)
    }

    /// Computes the m parity shards from the k data shards, in place.
    public func encode(stripe: UnsafeMutableRawPointer, shardLength: Int) {
        guard parityShards > 0, shardLength > 0 else { return }
        let base = stripe.assumingMemoryBound(to: UInt8.self)
        withShardPointers(base: base, shardLength: shardLength, indices: 0 ..< dataShards) { data in
            withShardPointers(base: base, shardLength: shardLength, indices: dataShards ..< totalShards) { parity in
                encodeTables.withUnsafeBufferPointer { tables in
                    shardvault_ec_encode_data(Int32(shardLength), Int32(dataShards), Int32(parityShards),
                                   UnsafeMutablePointer(mutating: tables.baseAddress!), data, parity)
                }
            }
        }
    }

    /// Rebuilds the shards in `targets` from any k shards in `available`, in place.
    ///
    /// Only the shards named in `targets` are written; a read that lost one data shard
    /// rebuilds just that one, heal rebuilds everything that is missing.
    public func reconstruct(stripe: UnsafeMutableRawPointer, shardLength: Int,
                            available: ShardMask, targets: ShardMask) throws(ErasureError) {
        guard !targets.isEmpty, shardLength > 0 else { return }
        guard available.count >= dataShards else {
            throw .tooManyMissing(missing: totalShards - available.count, parityShards: parityShards)
        }
        let plan = decodePlan(available: available, targets: targets)
        let base = stripe.assumingMemoryBound(to: UInt8.self)
        withShardPointers(base: base, shardLength: shardLength, indices: plan.survivors) { sources in
            withShardPointers(base: base, shardLength: shardLength, indices: plan.targets) { outputs in
                plan.tables.withUnsafeBufferPointer { tables in
                    shardvault_ec_encode_data(Int32(shardLength), Int32(dataShards), Int32(plan.targets.count),
                                   UnsafeMutablePointer(mutating: tables.baseAddress!), sources, outputs)
                }
            }
        }
    }

    private func decodePlan(available: ShardMask, targets: ShardMask) -> DecodePlan {
        let survivors = available.lowest(dataShards)
        let key = DecodePlan.Key(survivors: survivors, targets: targets)
        if let cached = decodeTables.withLock({ $0[key] }) { return cached }
        let plan = DecodePlan(codec: self, survivors: survivors, targets: targets)
        decodeTables.withLock { $0[key] = plan }
        return plan
    }

    /// Presents the shards at `indices` as the `unsigned char **` ISA-L expects, on the stack.
    private func withShardPointers<C: Collection<Int>>(
        base: UnsafeMutablePointer<UInt8>, shardLength: Int, indices: C,
        _ body: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>) -> Void
    ) {
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<UInt8>?.self, capacity: max(1, indices.count)) { pointers in
            for (slot, index) in indices.enumerated() {
                pointers[slot] = base + index * shardLength
            }
            body(pointers.baseAddress!)
        }
    }
}
