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
