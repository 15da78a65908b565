import Buffers
import Testing

/// Each test runs its pool work on fresh threads: the lists are per thread, and a fresh
/// thread starts with an empty list and zero counters.
@Suite("ChunkBufferPool")
struct ChunkBufferPoolTests {
    @Test("sizes: 32 KiB plaintext plus room for nonce and tag; bounded per thread")
    func sizes() {
        #expect(ChunkBufferPool.plaintextChunkSize == 32_768)
        #expect(ChunkBufferPool.bufferSize == 32_768 + 64)
        #expect(ChunkBufferPool.maxBuffersPerThread == 64)
    }

    @Test("a second take after return reuses the same buffer and counts it as reused")
    func reuseOnOneThread() {
        let (sameAddress, counters, byteCount) = onNewThread {
            let first = ChunkBufferPool.take()
            let firstAddress = first.baseAddress
            let byteCount = first.bytes.count
            _ = consume first
            let second = ChunkBufferPool.take()
            let sameAddress = second.baseAddress == firstAddress
            _ = consume second
            return (sameAddress, ChunkBufferPool.currentThreadCounters, byteCount)
        }
        #expect(sameAddress)
        #expect(byteCount == ChunkBufferPool.bufferSize)
        #expect(counters == PoolCounters(taken: 2, returned: 2, fresh: 1, reused: 1, released: 0))
    }

    @Test("a thread keeps at most maxBuffersPerThread idle buffers and frees the rest")
    func perThreadBound() {
        let bound = ChunkBufferPool.maxBuffersPerThread
        let (afterReturn, idleAfterReturn, afterRetake, idleAfterRetake) = onNewThread {
            let held = (0..<(bound + 10)).map { _ in Held(ChunkBufferPool.take()) }
            for buffer in held { buffer.drop() }
            let afterReturn = ChunkBufferPool.currentThreadCounters
            let idleAfterReturn = ChunkBufferPool.currentThreadIdleCount

            let again = (0..<(bound + 1)).map { _ in Held(ChunkBufferPool.take()) }
            let afterRetake = ChunkBufferPool.currentThreadCounters
            let idleAfterRetake = ChunkBufferPool.currentThreadIdleCount
            for buffer in again { buffer.drop() }
            return (afterReturn, idleAfterReturn, afterRetake, idleAfterRetake)
        }
        #expect(afterReturn == PoolCounters(taken: bound + 10, returned: bound + 10, fresh: bound + 10, reused: 0, released: 10))
        #expect(idleAfterReturn == bound)
        // `bound` come from the list, the one beyond it is fresh.
        #expect(afterRetake.reused == bound)
        #expect(afterRetake.fresh == bound + 11)
        #expect(idleAfterRetake == 0)
    }

    @Test("a buffer returns to the list of the thread that drops it, not the one that took it")
    func crossThreadReturn() {
        let count = 10
        let taken = ResultBox<[Held<ChunkBuffer>]>()
        let takerAddresses = ResultBox<Set<UInt>>()
        let takerCounters = onNewThread {
            var addresses: Set<UInt> = []
            var held: [Held<ChunkBuffer>] = []
            for _ in 0..<count {
                let buffer = ChunkBufferPool.take()
                addresses.insert(UInt(bitPattern: buffer.baseAddress))
                held.append(Held(buffer))
            }
            taken.store(held)
            takerAddresses.store(addresses)
            return ChunkBufferPool.currentThreadCounters
        }
        #expect(takerCounters == PoolCounters(taken: count, returned: 0, fresh: count))

        let (dropperAfterReturn, dropperIdle, retakenAddresses, dropperAfterRetake) = onNewThread {
            for buffer in taken.load()! { buffer.drop() }
            let afterReturn = ChunkBufferPool.currentThreadCounters
            let idle = ChunkBufferPool.currentThreadIdleCount
            var addresses: Set<UInt> = []
            for _ in 0..<count {
                let buffer = ChunkBufferPool.take()
                addresses.insert(UInt(bitPattern: buffer.baseAddress))
                _ = consume buffer
            }
            return (afterReturn, idle, addresses, ChunkBufferPool.currentThreadCounters)
        }
        #expect(dropperAfterReturn == PoolCounters(taken: 0, returned: count, fresh: 0, reused: 0, released: 0))
        #expect(dropperIdle == count)
        // The dropping thread now serves the taker's buffers without allocating.
        #expect(dropperAfterRetake.fresh == 0)
        #expect(dropperAfterRetake.reused == count)
        #expect(retakenAddresses.isSubset(of: takerAddresses.load()!))
    }

    @Test("cross-thread returns beyond the bound are freed by the receiving thread")
    func crossThreadReturnIsBounded() {
        let bound = ChunkBufferPool.maxBuffersPerThread
        let taken = ResultBox<[Held<ChunkBuffer>]>()
        runOnNewThreads(1) { _ in
            taken.store((0..<(bound * 2)).map { _ in Held(ChunkBufferPool.take()) })
        }
        let (counters, idle) = onNewThread {
            for buffer in taken.load()! { buffer.drop() }
            return (ChunkBufferPool.currentThreadCounters, ChunkBufferPool.currentThreadIdleCount)
        }
        #expect(counters == PoolCounters(returned: bound * 2, released: bound))
        #expect(idle == bound)
    }

    @Test("8 threads × 10k take/stamp/verify/return: no buffer has two holders")
    func manyThreads() {
        let threadCount = 8
        let iterations = 10_000
        let registry = HolderRegistry()
        let violations = SharedCounter()
        let perThread = Collected<PoolCounters>()

        runOnNewThreads(threadCount) { threadIndex in
            for iteration in 0..<iterations {
                let tag = UInt64(threadIndex) << 32 | UInt64(iteration)
                let buffer = ChunkBufferPool.take()
                // Sometimes hold several at once so the list has more than one entry.
                let extras = (0..<(iteration % 3)).map { _ in Held(ChunkBufferPool.take()) }
                if !registry.claim(buffer.baseAddress) { violations.increment() }
                stamp(buffer.bytes, with: tag, stride: 1024)
                if !carriesStamp(buffer.bytes, tag: tag, stride: 1024) { violations.increment() }
                registry.release(buffer.baseAddress)
                _ = consume buffer
                for extra in extras { extra.drop() }
            }
            perThread.append(ChunkBufferPool.currentThreadCounters)
        }

        #expect(violations.value == 0)
        let counters = perThread.all
        #expect(counters.count == threadCount)
        for threadCounters in counters {
            #expect(threadCounters.taken == threadCounters.returned)
            // At most three buffers are held at once, so a thread never needs more than three.
            #expect(threadCounters.fresh == 3)
            #expect(threadCounters.released == 0)
        }
    }
}
