// Chunk buffers for content encryption: every 32 KiB chunk on the FUSE and S3 paths is
// encrypted or decrypted through one of these. Per-thread lists make take/return cost a few
// loads and stores, with no lock and no malloc once a thread is warm.

/// Per-thread, lock-free free lists of chunk buffers (32 KiB plaintext + room for nonce and tag).
///
/// The thread-return rule: a `ChunkBuffer` goes back to the list of the thread that drops
/// it, not the thread that took it. A buffer taken on one thread and dropped on another
/// moves between lists; each list is bounded by `maxBuffersPerThread` and frees anything
/// returned beyond that, so no thread can hoard buffers. A thread's list and the buffers in
/// it are freed when the thread exits.
public enum ChunkBufferPool {
    public static let plaintextChunkSize: Int = 32 * 1024
    /// Plaintext plus 64 bytes: enough for a 24-byte XChaCha nonce or 12-byte GCM nonce and a
    /// 16-byte tag, with the total kept a multiple of the cache line.
    public static let bufferSize: Int = plaintextChunkSize + 64
    /// 64 buffers ≈ 2 MiB per thread at most.
    public static let maxBuffersPerThread: Int = 64
    /// Cache-line alignment keeps SIMD crypto loads from straddling lines at the start.
    public static let bufferAlignment: Int = 64

    private static let freeLists = ThreadLocalSlot {
        ChunkFreeList(bound: maxBuffersPerThread, bufferSize: bufferSize, bufferAlignment: bufferAlignment)
    }

    /// A buffer from this thread's list; an empty list gives a fresh heap buffer.
    /// Contents are whatever the previous holder left.
    public static func take() -> ChunkBuffer {
        ChunkBuffer(baseAddress: freeLists.current.take())
    }

    /// What this thread's list has done so far (takes and returns made on this thread).
    public static var currentThreadCounters: PoolCounters {
        freeLists.current.counters
    }

    /// Idle buffers in this thread's list.
    public static var currentThreadIdleCount: Int {
        freeLists.current.idleCount
    }

    static func giveBack(_ baseAddress: UnsafeMutableRawPointer) {
        freeLists.current.giveBack(baseAddress)
    }
}

/// A chunk buffer of `ChunkBufferPool.bufferSize` bytes; dropping it returns it to the
/// free list of the thread that drops it.
///
/// Non-copyable so it is returned exactly once; Sendable because ownership moves whole, and
/// the pool accepts a buffer back on any thread.
public struct ChunkBuffer: ~Copyable, @unchecked Sendable {
    public let baseAddress: UnsafeMutableRawPointer

    init(baseAddress: UnsafeMutableRawPointer) {
        self.baseAddress = baseAddress
    }

    /// All `ChunkBufferPool.bufferSize` bytes.
    public var bytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: baseAddress, count: ChunkBufferPool.bufferSize)
    }

    deinit {
        ChunkBufferPool.giveBack(baseAddress)
    }
}

// MARK: - One thread's list
//
// Owned by a single thread through a pthread key, so it needs no lock and no atomics:
// that is the whole point of the chunk pool.

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
