// One size class of the SizeClassPool: a bounded stack of idle buffers behind its own lock.
// Separate locks per class keep EC encode (1–4 MiB) and S3 streaming (64–256 KiB) from
// contending with each other.

import Synchronization

/// An idle buffer and the moment it went idle, so the trimmer can tell quiet classes
/// from busy ones. Sendable because an idle buffer belongs to the shelf alone and is only
/// reached under the shelf's mutex.
struct IdleBuffer: @unchecked Sendable {
    let baseAddress: UnsafeMutableRawPointer
    let idleSince: ContinuousClock.Instant
}

/// Everything the shelf lock protects.
struct ShelfState: ~Copyable {
    /// Ordered by `idleSince`, newest last. Taking from the end (LIFO) hands out the
    /// buffer most likely still in cache, and leaves the oldest at the front for trimming.
    var idle: [IdleBuffer]
    var counters = PoolCounters()

    init(maxIdle: Int) {
        idle = []
        // Reserved up front so push/pop never reallocate: steady state must not malloc.
        idle.reserveCapacity(maxIdle)
    }
}

/// Idle buffers of one class size. Holds raw pointers it alone owns while they are idle;
/// all access goes through `state`'s mutex, hence `@unchecked Sendable`.
final class SizeClassShelf: @unchecked Sendable {
    let classSize: Int
    let maxIdle: Int
    private let state: Mutex<ShelfState>

    init(classSize: Int, maxIdle: Int) {
        self.classSize = classSize
        self.maxIdle = maxIdle
        self.state = Mutex(ShelfState(maxIdle: maxIdle))
    }

    /// Pops the most recently returned buffer, or allocates a fresh one when the shelf is empty.
    func take() -> UnsafeMutableRawPointer {
        let reused: UnsafeMutableRawPointer? = state.withLock { state in
            state.counters.taken += 1
            if let newest = state.idle.popLast() {
                state.counters.reused += 1
                return newest.baseAddress
            }
            state.counters.fresh += 1
            return nil
        }
        // Allocate outside the lock: a 4 MiB posix_memalign can take a page-fault-heavy
        // while, and other threads only need the lock to pop.
        return reused ?? PageAlignedMemory.allocate(byteCount: classSize)
    }

    /// Keeps the buffer for reuse, or frees it when the shelf already holds `maxIdle`.
    func giveBack(_ baseAddress: UnsafeMutableRawPointer) {
        let kept = state.withLock { state in
            state.counters.returned += 1
            guard state.idle.count < maxIdle else {
                state.counters.released += 1
                return false
            }
            // The clock is read under the lock so `idle` stays ordered by idleSince.
            state.idle.append(IdleBuffer(baseAddress: baseAddress, idleSince: .now))
            return true
        }
        if !kept {
            PageAlignedMemory.free(baseAddress)
        }
    }

    /// Frees buffers that went idle at or before `cutoff`; returns how many.
    func releaseIdle(since cutoff: ContinuousClock.Instant) -> Int {
        state.withLock { state in
            // Oldest first, so the stale ones are a prefix.
            var staleCount = 0
            while staleCount < state.idle.count, state.idle[staleCount].idleSince <= cutoff {
                staleCount += 1
            }
            guard staleCount > 0 else { return 0 }
            for stale in state.idle[..<staleCount] {
                PageAlignedMemory.free(stale.baseAddress)
            }
            state.idle.removeFirst(staleCount)
            state.counters.released += staleCount
            return staleCount
        }
    }

    var counters: PoolCounters {
        state.withLock { $0.counters }
    }

    var idleCount: Int {
        state.withLock { $0.idle.count }
    }

    /// Only the pool's deinit calls this, when no handle can come back any more
    /// (every handle keeps the pool alive).
    func freeAllIdle() {
        state.withLock { state in
            for buffer in state.idle {
                PageAlignedMemory.free(buffer.baseAddress)
            }
            state.idle.removeAll(keepingCapacity: false)
        }
    }
}
