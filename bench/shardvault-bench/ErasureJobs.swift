import Foundation
import Erasure
import SeededRandom

/// RS encode / reconstruct and shard checksum throughput, in memory (no I/O).
///
/// Throughput counts *data* bytes: one 1 MiB stripe payload per encode or reconstruct call,
/// whatever the parity or the number of rebuilt shards.
enum ErasureJobs {
    static let stripePayload = 1 << 20
    static let checksumBlock = 256 << 10

    static func run(settings: MicroSettings, reporter: Reporter) throws {
        // Checksum speed depends on whether ISA-L has run on this thread before: its AVX-512
        // kernels return without VZEROUPPER, and the SSE2 build of XXH3 that follows then runs
        // several times slower. Both states are measured; the pool always runs in the second.
        try checksumJob(settings: settings, reporter: reporter, after: false)
        for (k, m) in [(4, 2), (8, 3)] {
            try codecJob(k: k, m: m, settings: settings, reporter: reporter)
        }
        try checksumJob(settings: settings, reporter: reporter, after: true)
    }

    private static func codecJob(k: Int, m: Int, settings: MicroSettings, reporter: Reporter) throws {
        let codec = try ErasureCodec(dataShards: k, parityShards: m)
        let chunk = codec.shardLength(forPayload: stripePayload)
        let byteCount = codec.stripeByteCount(shardLength: chunk)
        let stripe = ScratchBuffer(byteCount: byteCount)
        let pristine = ScratchBuffer(byteCount: byteCount)
        var random = SplitMix64(seed: UInt64(k * 100 + m))
        random.fill(stripe.bytes)
        codec.encode(stripe: stripe.base, shardLength: chunk)
        pristine.base.copyMemory(from: stripe.base, byteCount: byteCount)

        // Lose m data shards (the worst case: every lost shard is data, rebuilt from parity).
        let lost = ShardMask(0 ..< m)
        let available = ShardMask((0 ..< k + m).filter { !lost.contains($0) })
        for shard in lost.indices {
            (stripe.base + shard * chunk).initializeMemory(as: UInt8.self, repeating: 0, count: chunk)
        }
        try codec.reconstruct(stripe: stripe.base, shardLength: chunk, available: available, targets: lost)
        guard memcmp(stripe.base, pristine.base, byteCount) == 0 else {
            throw BenchError.wrongResult("reconstruct \(k)+\(m) did not rebuild the lost shards")
        }

        let target = settings.cpuTarget
        let encodeName = "erasure.encode.\(k)+\(m).1MiB"
        let rebuildName = "erasure.reconstruct.\(k)+\(m).lost\(m).1MiB"
        var encodes: [Sample] = []
        var rebuilds: [Sample] = []
        codec.encode(stripe: stripe.base, shardLength: chunk)  // warm-up
        for _ in 0 ..< settings.cpuSamples {
            encodes.append(try Sampler.run(bytesPerOperation: stripePayload, target: target) { _ in
                codec.encode(stripe: stripe.base, shardLength: chunk)
            })
            rebuilds.append(try Sampler.run(bytesPerOperation: stripePayload, target: target) { _ in
                try codec.reconstruct(stripe: stripe.base, shardLength: chunk, available: available, targets: lost)
            })
        }
        reporter.add(Measurement(name: encodeName, samples: encodes,
                                 note: "\(k) data shards of \(chunk) B in, \(m) parity out; MB/s of data"))
        reporter.add(Measurement(name: rebuildName, samples: rebuilds,
                                 note: "shards \(lost) rebuilt from \(available.indices.prefix(k)); MB/s of stripe data"))
    }

    private static func checksumJob(settings: MicroSettings, reporter: Reporter, after isal: Bool) throws {
        let buffer = ScratchBuffer(byteCount: 4 * checksumBlock)
        var random = SplitMix64(seed: 7)
        random.fill(buffer.bytes)
        var folded: UInt64 = 0
        var samples: [Sample] = []
        for _ in 0 ..< settings.cpuSamples {
            samples.append(try Sampler.run(bytesPerOperation: checksumBlock, target: settings.cpuTarget) { index in
                let block = UnsafeRawBufferPointer(start: buffer.base + (index & 3) * checksumBlock, count: checksumBlock)
                let sum = ShardChecksum(of: block, seed: UInt64(index))
                folded ^= sum.low ^ sum.high
            })
        }
        let name = "checksum.xxh3-128.256KiB" + (isal ? ".after-isal" : ".clean")
        let state = isal ? "measured after ISA-L ec_encode_data ran on this thread (the pool's state)"
                         : "measured before any ISA-L call in the process"
        reporter.add(Measurement(name: name, samples: samples,
                                 note: "ShardChecksum over 256 KiB chunks (one 4+2 chunk), cache-resident; "
                                     + state + "; fold \(folded & 0xff)"))
    }
}

enum BenchError: Error, CustomStringConvertible {
    case wrongResult(String)
    case setup(String)
    case io(String, Int32)

    var description: String {
        switch self {
        case let .wrongResult(what): return "wrong result: \(what)"
        case let .setup(what): return "setup failed: \(what)"
        case let .io(what, code): return "\(what): \(String(cString: strerror(code)))"
        }
    }
}
