// The handle a SizeClassPool gives out. Its deinit is the only way back into the pool, so a
// buffer cannot be returned twice or used after return without the compiler noticing.

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
