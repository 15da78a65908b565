#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Buffers
import Testing

private let KiB = 1024

/// Idle shrinking (explicit and background) and pool lifetime.
@Suite("SizeClassPool idle trimming and lifetime")
struct SizeClassPoolIdleTests {
    @Test("trimIdle releases only buffers idle at least `olderThan`")
    func trimByAge() {
        let pool = SizeClassPool(trimsInBackground: false)
        _ = pool.take(capacity: 64 * KiB)
        _ = pool.take(capacity: 1024 * KiB)
        #expect(pool.idleBufferCount == 2)

        #expect(pool.trimIdle(olderThan: .seconds(60)) == 0)
        #expect(pool.idleBufferCount == 2)

        // Let the first two age, then add a young one.
        usleep(300_000)
        _ = pool.take(capacity: 128 * KiB)
        let youngReturnedAt = ContinuousClock.now
        let released = pool.trimIdle(olderThan: .milliseconds(200))
        if ContinuousClock.now - youngReturnedAt < .milliseconds(200) {
            #expect(released == 2)
            #expect(pool.idleBufferCount == 1)
            #expect(pool.idleBufferCount(classSize: 128 * KiB) == 1)
        } else {
            // The machine stalled long enough that the young buffer aged too.
            #expect(released >= 2)
        }
        #expect(pool.counters.released == released)
    }

    @Test("trimIdle(olderThan: .zero) empties the pool and later takes allocate again")
    func trimEverything() {
        let pool = SizeClassPool(trimsInBackground: false)
        let held = (0..<4).map { _ in Held(pool.take(capacity: 512 * KiB)) }
        for buffer in held { buffer.drop() }
        #expect(pool.idleBufferCount == 4)

        #expect(pool.trimIdle(olderThan: .zero) == 4)
        #expect(pool.idleBufferCount == 0)
        _ = pool.take(capacity: 512 * KiB)
        #expect(pool.counters == PoolCounters(taken: 5, returned: 5, fresh: 5, reused: 0, released: 4))
    }

    @Test("trimming keeps the newest buffers (LIFO reuse stays warm)")
    func trimKeepsNewest() {
        let pool = SizeClassPool(trimsInBackground: false)
        let first = pool.take(capacity: 64 * KiB)
        let second = pool.take(capacity: 64 * KiB)
        let secondAddress = second.baseAddress
        _ = consume first
        usleep(200_000)
        _ = consume second
        let released = pool.trimIdle(olderThan: .milliseconds(150))
        #expect(released >= 1)
        if released == 1 {
            let reused = pool.take(capacity: 64 * KiB)
            #expect(reused.baseAddress == secondAddress)
        }
    }

    @Test("the background trimmer releases idle buffers after a quiet period")
    func backgroundTrimmer() {
        let idleTimeout = Duration.milliseconds(100)
        let pool = SizeClassPool(idleTimeout: idleTimeout, trimsInBackground: true)
        let held = (0..<3).map { _ in Held(pool.take(capacity: 64 * KiB)) }
        for buffer in held { buffer.drop() }
        let quietSince = ContinuousClock.now
        #expect(pool.idleBufferCount == 3)

        let trimmed = waitUntil(timeout: .seconds(10)) { pool.idleBufferCount == 0 }
        #expect(trimmed)
        // Nothing is trimmed before it has been idle for the whole timeout.
        #expect(ContinuousClock.now - quietSince >= idleTimeout)
        #expect(pool.counters == PoolCounters(taken: 3, returned: 3, fresh: 3, reused: 0, released: 3))
    }

    @Test("the background trimmer leaves a busy pool alone")
    func busyPoolKeepsBuffers() {
        let pool = SizeClassPool(idleTimeout: .seconds(2), trimsInBackground: true)
        // Reused every few milliseconds for ~0.5 s: never idle for 2 s, so never released.
        let deadline = ContinuousClock.now + .milliseconds(500)
        while ContinuousClock.now < deadline {
            _ = pool.take(capacity: 64 * KiB)
            usleep(5_000)
        }
        #expect(pool.counters.released == 0)
        #expect(pool.counters.fresh == 1)
    }

    @Test("an unused pool with a running trimmer deinitialises (the timer does not retain it)")
    func poolDeinitialises() {
        weak var weakPool: SizeClassPool?
        do {
            let pool = SizeClassPool(idleTimeout: .milliseconds(10), trimsInBackground: true)
            weakPool = pool
            _ = pool.take(capacity: 64 * KiB)
        }
        // A timer tick may hold the pool for an instant; it must let go soon after.
        #expect(waitUntil(timeout: .seconds(5)) { weakPool == nil })
    }

    @Test("an outstanding buffer keeps its pool alive until it is returned")
    func bufferKeepsPoolAlive() {
        weak var weakPool: SizeClassPool?
        var outstanding: Held<PooledBuffer>?
        do {
            let pool = SizeClassPool(idleTimeout: .milliseconds(10), trimsInBackground: true)
            weakPool = pool
            outstanding = Held(pool.take(capacity: 2 * 1024 * KiB))
        }
        usleep(50_000)
        #expect(weakPool != nil)
        #expect(weakPool?.counters.outstanding == 1)

        outstanding?.drop()
        outstanding = nil
        #expect(waitUntil(timeout: .seconds(5)) { weakPool == nil })
    }
}
