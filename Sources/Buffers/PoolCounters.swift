// Counters shared by every pool in this layer, so tests and benchmarks can prove reuse
// (and the absence of fresh allocations) instead of assuming it.

/// What a pool did with its buffers. Every pool counts the same five events:
///
/// - `taken`: handles given out.
/// - `returned`: handles given back (a handle's deinit).
/// - `fresh`: takes that had to allocate new memory.
/// - `reused`: takes served from an idle buffer. `taken == fresh + reused`.
/// - `released`: buffers freed by the pool (returned over its bound, trimmed when idle,
///   or too large to pool).
///
/// In steady state `fresh` and `released` stop moving; when nobody holds a buffer,
/// `taken == returned`.
public struct PoolCounters: Sendable, Equatable, CustomStringConvertible {
    public var taken: Int
    public var returned: Int
    public var fresh: Int
    public var reused: Int
    public var released: Int

    public init(taken: Int = 0, returned: Int = 0, fresh: Int = 0, reused: Int = 0, released: Int = 0) {
        self.taken = taken
        self.returned = returned
        self.fresh = fresh
        self.reused = reused
        self.released = released
    }

    /// Handles given out and not yet returned.
    public var outstanding: Int { taken - returned }

    public static func + (lhs: PoolCounters, rhs: PoolCounters) -> PoolCounters {
        PoolCounters(
            taken: lhs.taken + rhs.taken,
            returned: lhs.returned + rhs.returned,
            fresh: lhs.fresh + rhs.fresh,
            reused: lhs.reused + rhs.reused,
            released: lhs.released + rhs.released)
    }

    public var description: String {
        "taken \(taken), returned \(returned), fresh \(fresh), reused \(reused), released \(released)"
    }
}
