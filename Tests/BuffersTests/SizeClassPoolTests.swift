import Buffers
import Testing

private let KiB = 1024
private let MiB = 1024 * 1024

/// Reuse, class selection, bounds and counters. Every test uses its own pool without a
/// background trimmer, so counters are exact and no timer can interfere.
@Suite("SizeClassPool")
struct SizeClassPoolTests {
    @Test("class sizes are 64 KiB … 4 MiB in powers of two")
    func classSizes() {
        #expect(SizeClassPool.classSizes == [64 * KiB, 128 * KiB, 256 * KiB, 512 * KiB, 1 * MiB, 2 * MiB, 4 * MiB])
    }

    @Test("take gives the smallest class that fits",
          arguments: [
              (requested: 0, classSize: 64 * 1024),
              (requested: 1, classSize: 64 * 1024),
              (requested: 64 * 1024, classSize: 64 * 1024),
              (requested: 64 * 1024 + 1, classSize: 128 * 1024),
              (requested: 300_000, classSize: 512 * 1024),
              (requested: 1024 * 1024, classSize: 1024 * 1024),
              (requested: 4 * 1024 * 1024, classSize: 4 * 1024 * 1024),
          ])
    func smallestFittingClass(requested: Int, classSize: Int) {
        let pool = SizeClassPool(trimsInBackground: false)
        let buffer = pool.take(capacity: requested)
        #expect(buffer.capacity == classSize)
        #expect(buffer.bytes.count == classSize)
        #expect(SizeClassPool.classSize(fitting: requested) == classSize)
        _ = consume buffer
        #expect(pool.counters(classSize: classSize) == PoolCounters(taken: 1, returned: 1, fresh: 1))
    }

    @Test("a second take after return reuses the same buffer and counts it as reused")
    func reuseAfterReturn() {
        let pool = SizeClassPool(trimsInBackground: false)
        let first = pool.take(capacity: 1 * MiB)
        let firstAddress = first.baseAddress
        stamp(first.bytes, with: 0xF1_F5)
        _ = consume first

        let second = pool.take(capacity: 900 * KiB)
        #expect(second.baseAddress == firstAddress)
        #expect(second.capacity == 1 * MiB)
        // Pooled memory is not cleared: the previous holder's bytes are still there.
        #expect(carriesStamp(second.bytes, tag: 0xF1_F5))
        _ = consume second

        let expected = PoolCounters(taken: 2, returned: 2, fresh: 1, reused: 1, released: 0)
        #expect(pool.counters(classSize: 1 * MiB) == expected)
        #expect(pool.counters == expected)
        #expect(pool.idleBufferCount == 1)
    }

    @Test("classes are kept apart: returning a 64 KiB buffer does not feed 128 KiB takes")
    func classesAreSeparate() {
        let pool = SizeClassPool(trimsInBackground: false)
        _ = pool.take(capacity: 64 * KiB)
        _ = pool.take(capacity: 128 * KiB)
        #expect(pool.counters(classSize: 64 * KiB).fresh == 1)
        #expect(pool.counters(classSize: 128 * KiB).fresh == 1)
        #expect(pool.counters(classSize: 128 * KiB).reused == 0)
        #expect(pool.idleBufferCount(classSize: 64 * KiB) == 1)
        #expect(pool.idleBufferCount(classSize: 128 * KiB) == 1)
    }

    @Test("returning more than maxIdlePerClass frees the surplus and counts it released")
    func boundPerClass() {
        let pool = SizeClassPool(maxIdlePerClass: 2, trimsInBackground: false)
        let held = (0..<5).map { _ in Held(pool.take(capacity: 256 * KiB)) }
        #expect(pool.counters(classSize: 256 * KiB) == PoolCounters(taken: 5, fresh: 5))
        for buffer in held { buffer.drop() }

        #expect(pool.counters(classSize: 256 * KiB)
            == PoolCounters(taken: 5, returned: 5, fresh: 5, reused: 0, released: 3))
        #expect(pool.idleBufferCount == 2)

        // Only the two kept buffers can be reused; the third take must allocate.
        let again = (0..<3).map { _ in Held(pool.take(capacity: 256 * KiB)) }
        #expect(pool.counters(classSize: 256 * KiB)
            == PoolCounters(taken: 8, returned: 5, fresh: 6, reused: 2, released: 3))
        #expect(pool.idleBufferCount == 0)
        for buffer in again { buffer.drop() }
        #expect(pool.idleBufferCount == 2)
    }

    @Test("maxIdlePerClass 0 pools nothing")
    func zeroBound() {
        let pool = SizeClassPool(maxIdlePerClass: 0, trimsInBackground: false)
        for _ in 0..<3 {
            _ = pool.take(capacity: 64 * KiB)
        }
        #expect(pool.counters == PoolCounters(taken: 3, returned: 3, fresh: 3, reused: 0, released: 3))
        #expect(pool.idleBufferCount == 0)
    }

    @Test("requests above 4 MiB get an unpooled buffer, freed on return and counted as fresh")
    func oversized() {
        let pool = SizeClassPool(trimsInBackground: false)
        let big = pool.take(capacity: 4 * MiB + 1)
        #expect(big.capacity == 4 * MiB + 4096)
        #expect(UInt(bitPattern: big.baseAddress) % 4096 == 0)
        stamp(big.bytes, with: 0xB16)
        #expect(pool.counters(classSize: 8 * MiB) == PoolCounters(taken: 1, fresh: 1))
        _ = consume big

        let expected = PoolCounters(taken: 1, returned: 1, fresh: 1, reused: 0, released: 1)
        #expect(pool.counters(classSize: 8 * MiB) == expected)
        #expect(pool.counters == expected)
        #expect(pool.idleBufferCount == 0)
        #expect(SizeClassPool.classSize(fitting: 4 * MiB + 1) == nil)
    }

    @Test("counters for a size that is not a class are zero")
    func countersForUnknownSize() {
        let pool = SizeClassPool(trimsInBackground: false)
        _ = pool.take(capacity: 100 * KiB)
        #expect(pool.counters(classSize: 100 * KiB) == PoolCounters())
        #expect(pool.counters(classSize: 128 * KiB).taken == 1)
    }

    @Test("every class hands out 4096-aligned buffers whose whole capacity is writable")
    func alignmentOfEveryClass() {
        let pool = SizeClassPool(trimsInBackground: false)
        for classSize in SizeClassPool.classSizes {
            let buffer = pool.take(capacity: classSize)
            #expect(UInt(bitPattern: buffer.baseAddress) % 4096 == 0, "class \(classSize)")
            #expect(buffer.bytes.baseAddress == buffer.baseAddress)
            let tag = UInt64(classSize)
            stamp(buffer.bytes, with: tag)
            #expect(carriesStamp(buffer.bytes, tag: tag))
        }
    }

    @Test("the shared pool exists and works")
    func sharedPool() {
        let before = SizeClassPool.shared.counters(classSize: 64 * KiB).taken
        _ = SizeClassPool.shared.take(capacity: 10)
        // Other tests may use the shared pool at the same time, hence >=.
        #expect(SizeClassPool.shared.counters(classSize: 64 * KiB).taken >= before + 1)
    }
}
