#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Buffers
import Synchronization
import Testing

private let KiB = 1024

/// Tells the trimming thread when the workers are done.
private final class WorkerProgress: Sendable {
    let finishedWorkers = Atomic<Int>(0)
}

@Suite("SizeClassPool under concurrency")
struct SizeClassPoolConcurrencyTests {
    static let threadCount = 8
    static let iterationsPerThread = 10_000

    @Test("8 threads × 10k take/stamp/verify/return: no buffer has two holders, counters add up")
    func manyThreads() {
        // A small bound forces frees and fresh allocations to interleave with reuse.
        let pool = SizeClassPool(maxIdlePerClass: 4, trimsInBackground: false)
        let registry = HolderRegistry()
        let progress = WorkerProgress()
        let violations = SharedCounter()
        let sizes = [64 * KiB, 100 * KiB, 256 * KiB]

        runOnNewThreads(Self.threadCount + 1) { threadIndex in
            if threadIndex == Self.threadCount {
                // Trims concurrently with the workers, racing their takes and returns.
                while progress.finishedWorkers.load(ordering: .acquiring) < Self.threadCount {
                    pool.trimIdle(olderThan: .zero)
                    usleep(1_000)
                }
                return
            }
            for iteration in 0..<Self.iterationsPerThread {
                let tag = UInt64(threadIndex) << 32 | UInt64(iteration)
                let buffer = pool.take(capacity: sizes[(threadIndex + iteration) % sizes.count])
                // Every few iterations hold a second buffer at the same time.
                let extra = iteration % 5 == 0 ? Held(pool.take(capacity: 64 * KiB)) : nil

                if !registry.claim(buffer.baseAddress) { violations.increment() }
                stamp(buffer.bytes, with: tag)
                if iteration % 64 == 0 { sched_yield() }
                if !carriesStamp(buffer.bytes, tag: tag) { violations.increment() }
                registry.release(buffer.baseAddress)
                _ = consume buffer
                extra?.drop()
            }
            progress.finishedWorkers.add(1, ordering: .releasing)
        }

        #expect(violations.value == 0)
        #expect(registry.count == 0)

        let counters = pool.counters
        let expectedTakes = Self.threadCount * (Self.iterationsPerThread + Self.iterationsPerThread / 5)
        #expect(counters.taken == expectedTakes)
        #expect(counters.taken == counters.returned)
        #expect(counters.taken == counters.fresh + counters.reused)
        // Every buffer ever allocated is either still idle or was freed exactly once.
        #expect(counters.fresh == counters.released + pool.idleBufferCount)
        #expect(pool.idleBufferCount <= 4 * SizeClassPool.classSizes.count)
    }

    @Test("buffers taken on one thread and returned on another go back to the same pool")
    func returnOnAnotherThread() {
        let pool = SizeClassPool(trimsInBackground: false)
        let held = ResultBox<[Held<PooledBuffer>]>()
        runOnNewThreads(1) { _ in
            held.store((0..<6).map { _ in Held(pool.take(capacity: 128 * KiB)) })
        }
        runOnNewThreads(1) { _ in
            for buffer in held.load()! { buffer.drop() }
        }
        #expect(pool.counters(classSize: 128 * KiB) == PoolCounters(taken: 6, returned: 6, fresh: 6))
        #expect(pool.idleBufferCount == 6)
    }
}
