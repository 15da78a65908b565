// Scratch memory for one filesystem operation (name encryption, base64, path splitting,
// reply assembly), thrown away all at once when the operation replies. Slabs are kept
// across resets, so once a worker has seen its largest operation it never mallocs again.

/// Bump allocator over a list of slabs, reset per operation.
///
/// - `allocate` carves from the current slab and moves to the next one when it does not
///   fit. A slab that is too small for a request at that point is replaced by a larger one,
///   so slab `i` only ever grows and the slab count is the most any single operation needed.
/// - `reset` makes everything reusable without freeing: replaying the same sequence of
///   requests after a reset walks the same slabs and allocates nothing.
///
/// Memory handed out is uninitialised and valid until the next `reset` (or the arena's
/// deinit). The arena never runs deinitialisers: store only trivial values (integers, bytes,
/// pointers into the arena). Not thread-safe: use one arena per thread (`currentThread`).
public final class BumpArena {
    public let slabSize: Int

    /// Slab starts are aligned this much, so requests up to this alignment need no extra slack
    /// when they start a slab.
    static let slabAlignment = 64

    private struct Slab {
        let start: UnsafeMutableRawPointer
        let size: Int
    }

    private var slabs: [Slab] = []
    private var currentSlabIndex = 0
    /// Bump offset inside `slabs[currentSlabIndex]`.
    private var offsetInCurrentSlab = 0
    /// Bytes used (including alignment padding) in slabs before the current one.
    private var bytesUsedInEarlierSlabs = 0
    private var totalSlabBytes = 0

    /// Slabs allocated over the arena's life (including replaced ones). Flat after a warm-up
    /// means the arena has stopped calling malloc.
    public private(set) var slabAllocationCount = 0

    public init(slabSize: Int = 64 * 1024) {
        precondition(slabSize > 0, "slabSize must be positive")
        self.slabSize = slabSize
        // A handful of slot headers up front; this array only grows with the high-water mark.
        slabs.reserveCapacity(8)
        appendSlab(size: slabSize)
    }

    deinit {
        for slab in slabs {
            slab.start.deallocate()
        }
    }

    /// `byteCount` uninitialised bytes starting at a multiple of `alignment` (a power of two).
    public func allocate(byteCount: Int, alignment: Int = 16) -> UnsafeMutableRawBufferPointer {
        precondition(byteCount >= 0, "negative byteCount \(byteCount)")
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment \(alignment) is not a power of two")
        while true {
            if let start = carveFromCurrentSlab(byteCount: byteCount, alignment: alignment) {
                return UnsafeMutableRawBufferPointer(start: start, count: byteCount)
            }
            moveToNextSlab(fitting: byteCount, alignment: alignment)
        }
    }

    /// Room for `count` values of `T`, bound to `T` and uninitialised. `T` should be trivial:
    /// the arena reuses the memory on reset without deinitialising anything.
    public func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutableBufferPointer<T> {
        precondition(count >= 0, "negative count \(count)")
        let (byteCount, overflow) = MemoryLayout<T>.stride.multipliedReportingOverflow(by: count)
        precondition(!overflow, "\(count) × \(T.self) overflows")
        let raw = allocate(byteCount: byteCount, alignment: MemoryLayout<T>.alignment)
        return raw.bindMemory(to: T.self)
    }

    /// A copy of `bytes` in the arena (byte-aligned, since copies are for names and payloads).
    public func copy(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutableRawBufferPointer {
        let destination = allocate(byteCount: bytes.count, alignment: 1)
        if bytes.count > 0 {
            destination.copyMemory(from: bytes)
        }
        return destination
    }

    /// Makes all memory reusable. Everything handed out before is invalid afterwards.
    public func reset() {
        currentSlabIndex = 0
        offsetInCurrentSlab = 0
        bytesUsedInEarlierSlabs = 0
    }

    /// Bytes handed out since the last reset, including alignment padding.
    public var bytesInUse: Int {
        bytesUsedInEarlierSlabs + offsetInCurrentSlab
    }

    /// Bytes held in slabs; only ever grows (to the high-water mark of the workload).
    public var capacity: Int {
        totalSlabBytes
    }

    /// This thread's arena (64 KiB slabs), created on first use and freed when the thread exits.
    public static var currentThread: BumpArena {
        perThreadArenas.current
    }

    private static let perThreadArenas = ThreadLocalSlot { BumpArena() }

    // MARK: - Slabs

    private func carveFromCurrentSlab(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
        let slab = slabs[currentSlabIndex]
        // Align the address, not the offset: requests may ask for more than slabAlignment.
        let unaligned = UInt(bitPattern: slab.start + offsetInCurrentSlab)
        let aligned = (unaligned + UInt(alignment - 1)) & ~UInt(alignment - 1)
        let padding = Int(aligned - unaligned)
        guard byteCount <= slab.size - offsetInCurrentSlab - padding else { return nil }
        offsetInCurrentSlab += padding + byteCount
        return slab.start + (offsetInCurrentSlab - byteCount)
    }

    private func moveToNextSlab(fitting byteCount: Int, alignment: Int) {
        bytesUsedInEarlierSlabs += offsetInCurrentSlab
        currentSlabIndex += 1
        offsetInCurrentSlab = 0

        let worstPadding = alignment > Self.slabAlignment ? alignment - 1 : 0
        let needed = byteCount + worstPadding
        if currentSlabIndex == slabs.count {
            appendSlab(size: max(slabSize, needed))
        } else if slabs[currentSlabIndex].size < needed {
            // Replace rather than insert, so the slab list cannot grow without bound when
            // operations vary; this slab position simply becomes large enough.
            let tooSmall = slabs[currentSlabIndex]
            tooSmall.start.deallocate()
            totalSlabBytes -= tooSmall.size
            slabs[currentSlabIndex] = makeSlab(size: needed)
        }
    }

    private func appendSlab(size: Int) {
        slabs.append(makeSlab(size: size))
    }

    private func makeSlab(size: Int) -> Slab {
        let start = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: Self.slabAlignment)
        totalSlabBytes += size
        slabAllocationCount += 1
        return Slab(start: start, size: size)
    }
}
