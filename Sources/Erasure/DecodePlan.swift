import CISAL

/// The ISA-L tables that turn k surviving shards into a chosen set of lost ones.
/// Built once per (survivors, targets) pattern and cached by the codec.
struct DecodePlan: Sendable {
    struct Key: Hashable, Sendable {
        var survivors: ShardMask
        var targets: ShardMask
    }

    let survivors: [Int]
    let targets: [Int]
    let tables: [UInt8]

    init(codec: ErasureCodec, survivors survivorMask: ShardMask, targets targetMask: ShardMask) {
        let k = codec.dataShards
        survivors = survivorMask.indices
        targets = targetMask.indices
        precondition(survivors.count == k, "decode needs exactly k survivors")

        // Rows of the generator for the survivors form an invertible k×k matrix B
        // (a Cauchy property); data = B⁻¹ · survivors.
        var survivorRows = [UInt8](repeating: 0, count: k * k)
        for (row, shard) in survivors.enumerated() {
            for column in 0 ..< k { survivorRows[row * k + column] = codec.generator[shard * k + column] }
        }
        var inverse = [UInt8](repeating: 0, count: k * k)
        let status = gf_invert_matrix(&survivorRows, &inverse, Int32(k))
        precondition(status == 0, "Cauchy submatrix not invertible: ISA-L or generator is broken")

        // A lost data shard is a row of B⁻¹; a lost parity shard is its generator row times B⁻¹.
        var decodeRows = [UInt8](repeating: 0, count: targets.count * k)
        for (row, target) in targets.enumerated() {
            for column in 0 ..< k {
                if target < k {
                    decodeRows[row * k + column] = inverse[target * k + column]
                } else {
                    var sum: UInt8 = 0
                    for j in 0 ..< k {
                        sum ^= gf_mul(codec.generator[target * k + j], inverse[j * k + column])
                    }
                    decodeRows[row * k + column] = sum
                }
            }
        }
        var expanded = [UInt8](repeating: 0, count: 32 * k * targets.count)
        ec_init_tables(Int32(k), Int32(targets.count), &decodeRows, &expanded)
        tables = expanded
    }
}
