// Proof, not assertion, that the Buffers layer's steady state does not call malloc.
//
// Each benchmark warms its pool on the running thread first (the chunk pool and the arena
// are per thread, and the benchmark body may not run on the setup hook's thread), then calls
// `startMeasurement()` so only steady-state iterations are counted. Expected result:
// mallocCountTotal 0 for all three, and 1 per iteration for the control at the end.

import Benchmark
import Buffers

private let oneMiB = 1024 * 1024

/// Sizes of a typical lookup/readdir operation's scratch: names, their base64, path parts,
/// a reply header. Sixteen requests per operation, as in a small readdir.
private let arenaRequestSizes: [Int] = [24, 255, 340, 16, 64, 128, 8, 200, 31, 96, 255, 340, 48, 12, 512, 80]

let benchmarks: @Sendable () -> Void = {
    let steadyState = Benchmark.Configuration(
        metrics: [.mallocCountTotal, .wallClock],
        scalingFactor: .kilo,
        maxDuration: .seconds(2))

    Benchmark("SizeClassPool take+return 1 MiB", configuration: steadyState) { benchmark in
        let pool = SizeClassPool.shared
        // The first take of a class allocates; afterwards it is served from the shelf.
        blackHole(pool.take(capacity: oneMiB).baseAddress)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let buffer = pool.take(capacity: oneMiB)
            buffer.baseAddress.storeBytes(of: 0x5A, as: UInt8.self)
            blackHole(buffer.baseAddress)
        }
    }

    Benchmark("ChunkBufferPool take+return", configuration: steadyState) { benchmark in
        // Creates this thread's free list and its first buffer.
        blackHole(ChunkBufferPool.take().baseAddress)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let buffer = ChunkBufferPool.take()
            buffer.baseAddress.storeBytes(of: 0x5A, as: UInt8.self)
            blackHole(buffer.baseAddress)
        }
    }

    Benchmark("BumpArena allocate x16 + reset", configuration: steadyState) { benchmark in
        let arena = BumpArena.currentThread
        // One full operation brings the arena to its high-water mark.
        runArenaOperation(arena)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            runArenaOperation(arena)
        }
    }

    // Control: proves the malloc counter is live. An AlignedBuffer is never pooled, so this
    // must show exactly one malloc per iteration; if it shows 0, the zeros above mean nothing.
    Benchmark("Control: AlignedBuffer 64 KiB (1 malloc expected)", configuration: steadyState) { benchmark in
        for _ in benchmark.scaledIterations {
            let buffer = AlignedBuffer(capacity: 64 * 1024)
            blackHole(buffer.baseAddress)
        }
    }
}

/// One operation's worth of arena use, then the per-operation reset.
@inline(never)
private func runArenaOperation(_ arena: BumpArena) {
    for size in arenaRequestSizes {
        let bytes = arena.allocate(byteCount: size)
        bytes.storeBytes(of: UInt8(truncatingIfNeeded: size), toByteOffset: 0, as: UInt8.self)
        blackHole(bytes.baseAddress)
    }
    arena.reset()
}
