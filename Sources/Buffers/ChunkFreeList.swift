// One thread's stack of idle chunk buffers. Owned by a single thread through a pthread key,
// so it needs no lock and no atomics: that is the whole point of the chunk pool.

/// A fixed-capacity stack of idle chunk buffers plus this thread's counters.
///
/// Not thread-safe by design; reach it only through `ChunkBufferPool`, which hands every
/// thread its own list. Frees what it holds when the thread exits (the key's destructor
/// releases the list).
final class ChunkFreeList {
    let bound: Int
    let bufferSize: Int
    let bufferAlignment: Int
    private(set) var counters = PoolCounters()
    private(set) var idleCount = 0
    /// Fixed-size storage allocated once, so pushes and pops never touch malloc.
    private let idleSlots: UnsafeMutablePointer<UnsafeMutableRawPointer>

    init(bound: Int, bufferSize: Int, bufferAlignment: Int) {
        precondition(bound >= 0 && bufferSize > 0)
        self.bound = bound
        self.bufferSize = bufferSize
        self.bufferAlignment = bufferAlignment
        self.idleSlots = .allocate(capacity: max(bound, 1))
    }

    deinit {
        for index in 0..<idleCount {
            idleSlots[index].deallocate()
        }
        idleSlots.deallocate()
    }

    /// The most recently returned buffer (still warm in this core's cache), or a fresh one.
    func take() -> UnsafeMutableRawPointer {
        counters.taken += 1
        if idleCount > 0 {
            idleCount -= 1
            counters.reused += 1
            return idleSlots[idleCount]
        }
        counters.fresh += 1
        return .allocate(byteCount: bufferSize, alignment: bufferAlignment)
    }

    /// Keeps the buffer unless the list is full, in which case it is freed. Accepts buffers
    /// taken on any thread: all chunk buffers have the same size and come from the same heap.
    func giveBack(_ buffer: UnsafeMutableRawPointer) {
        counters.returned += 1
        guard idleCount < bound else {
            counters.released += 1
            buffer.deallocate()
            return
        }
        idleSlots[idleCount] = buffer
        idleCount += 1
    }
}
