// Block-sized buffers (64 KiB … 4 MiB) for erasure coding and S3 streaming, recycled so that
// steady-state encode/decode does not hit malloc, and released after a quiet period so an
// idle daemon does not sit on tens of megabytes.

import Synchronization

/// Size-class pool of 4096-aligned buffers: 64K, 128K, 256K, 512K, 1M, 2M, 4M.
///
/// - `take(capacity:)` hands out the smallest class that fits; larger requests get an
///   unpooled buffer that is freed when its handle drops (counted as `fresh`, then `released`).
/// - Each class keeps at most `maxIdlePerClass` idle buffers; a return beyond that frees the
///   buffer and counts `released`.
/// - Idle buffers older than `idleTimeout` are freed by a background timer (every
///   `idleTimeout / 2`) when `trimsInBackground` is set, or whenever `trimIdle` is called.
///
/// Thread-safe: one mutex per class. `@unchecked Sendable` because the shelves own raw
/// pointers, which the compiler cannot see are only touched under those mutexes.
public final class SizeClassPool: @unchecked Sendable {
    /// The process-wide pool. Its background trimmer uses the default 30 s idle timeout.
    public static let shared = SizeClassPool()

    public static let classSizes: [Int] = (16...22).map { 1 << $0 }

    public let maxIdlePerClass: Int
    public let idleTimeout: Duration

    private let shelves: [SizeClassShelf]
    /// Counters for requests above the largest class, which never sit idle.
    private let unpooledCounters = Mutex(PoolCounters())
    private let backgroundTrimmer: IdleTrimTimer?

    public init(maxIdlePerClass: Int = 16, idleTimeout: Duration = .seconds(30), trimsInBackground: Bool = true) {
        precondition(maxIdlePerClass >= 0, "maxIdlePerClass must not be negative")
        self.maxIdlePerClass = maxIdlePerClass
        self.idleTimeout = idleTimeout
        self.shelves = Self.classSizes.map { SizeClassShelf(classSize: $0, maxIdle: maxIdlePerClass) }
        self.backgroundTrimmer = trimsInBackground ? IdleTrimTimer(interval: idleTimeout / 2) : nil

        // Weak: the pool owns the timer, so a strong capture would keep the pool alive forever.
        backgroundTrimmer?.start { [weak self] in
            guard let self else { return }
            self.trimIdle(olderThan: self.idleTimeout)
        }
    }

    deinit {
        // Every PooledBuffer holds the pool, so by now all buffers are back on the shelves.
        // The timer is cancelled when `backgroundTrimmer` is released right after this.
        for shelf in shelves {
            shelf.freeAllIdle()
        }
    }

    /// A buffer of the smallest class >= `capacity` (4096-aligned, uninitialised contents).
    /// `capacity` above 4 MiB gives an unpooled, page-rounded buffer freed when dropped.
    public func take(capacity: Int) -> PooledBuffer {
        precondition(capacity >= 0, "negative capacity \(capacity)")
        guard let shelf = shelf(fitting: capacity) else {
            return takeUnpooled(capacity: capacity)
        }
        return PooledBuffer(capacity: shelf.classSize, baseAddress: shelf.take(), pool: self, shelf: shelf)
    }

    /// Frees idle buffers that have been idle at least `olderThan`; returns how many.
    /// `trimIdle(olderThan: .zero)` empties the pool's idle lists.
    @discardableResult
    public func trimIdle(olderThan: Duration) -> Int {
        let cutoff = ContinuousClock.now - olderThan
        var releasedCount = 0
        for shelf in shelves {
            releasedCount += shelf.releaseIdle(since: cutoff)
        }
        return releasedCount
    }

    /// Totals over all classes, including unpooled (oversized) buffers.
    public var counters: PoolCounters {
        shelves.reduce(unpooledCounters.withLock { $0 }) { $0 + $1.counters }
    }

    /// Counters of one class. `classSize` should be one of `classSizes`; any size above the
    /// largest class reports the unpooled buffers; other sizes report zeroes.
    public func counters(classSize: Int) -> PoolCounters {
        if let shelf = shelves.first(where: { $0.classSize == classSize }) {
            return shelf.counters
        }
        if classSize > Self.largestClassSize {
            return unpooledCounters.withLock { $0 }
        }
        return PoolCounters()
    }

    /// Idle buffers currently kept, over all classes.
    public var idleBufferCount: Int {
        shelves.reduce(0) { $0 + $1.idleCount }
    }

    /// Idle buffers currently kept in one class (0 for sizes that are not a class).
    public func idleBufferCount(classSize: Int) -> Int {
        shelves.first(where: { $0.classSize == classSize })?.idleCount ?? 0
    }

    /// The class size `take(capacity:)` would hand out, or nil above the largest class.
    public static func classSize(fitting capacity: Int) -> Int? {
        classSizes.first { $0 >= capacity }
    }

    // MARK: - Internals

    private static let largestClassSize = classSizes[classSizes.count - 1]

    private func shelf(fitting capacity: Int) -> SizeClassShelf? {
        // Seven classes: a linear scan beats anything clever.
        shelves.first { $0.classSize >= capacity }
    }

    private func takeUnpooled(capacity: Int) -> PooledBuffer {
        let rounded = PageAlignedMemory.roundedCapacity(capacity)
        unpooledCounters.withLock { counters in
            counters.taken += 1
            counters.fresh += 1
        }
        let baseAddress = PageAlignedMemory.allocate(byteCount: rounded)
        return PooledBuffer(capacity: rounded, baseAddress: baseAddress, pool: self, shelf: nil)
    }

    /// Called by the handle of an oversized buffer.
    func releaseUnpooled(_ baseAddress: UnsafeMutableRawPointer) {
        unpooledCounters.withLock { counters in
            counters.returned += 1
            counters.released += 1
        }
        PageAlignedMemory.free(baseAddress)
    }
}

// MARK: - The handle
//
// Its deinit is the only way back into the pool, so a buffer cannot be returned twice or
// used after return without the compiler noticing.

/// A 4096-aligned buffer borrowed from a `SizeClassPool`; dropping it returns the buffer.
///
/// The handle holds a strong reference to its pool, so a pool outlives every buffer it
/// lent out. Non-copyable so exactly one holder can return it; Sendable because ownership
/// moves whole (take on one task, return on another is fine).
public struct PooledBuffer: ~Copyable, @unchecked Sendable {
    /// The class size, which is at least the requested capacity.
    public let capacity: Int
    /// 4096-aligned.
    public let baseAddress: UnsafeMutableRawPointer

    private let pool: SizeClassPool
    /// nil for a buffer larger than the largest class: freed instead of kept.
    private let shelf: SizeClassShelf?

    init(capacity: Int, baseAddress: UnsafeMutableRawPointer, pool: SizeClassPool, shelf: SizeClassShelf?) {
        self.capacity = capacity
        self.baseAddress = baseAddress
        self.pool = pool
        self.shelf = shelf
    }

    /// The whole capacity, not just what a caller asked for. Contents are whatever the
    /// previous holder left: callers must not assume zeroes.
    public var bytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: baseAddress, count: capacity)
    }

    deinit {
        if let shelf {
            shelf.giveBack(baseAddress)
        } else {
            pool.releaseUnpooled(baseAddress)
        }
    }
}
