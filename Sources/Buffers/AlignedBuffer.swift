// Page-aligned heap memory for O_DIRECT shard I/O, plus the one place that talks to
// posix_memalign so every page-aligned allocation in this layer traps and frees the same way.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Raw page-aligned allocations. Shared by `AlignedBuffer` and `SizeClassPool` so that both
/// round sizes, trap on OOM and free in exactly one way.
enum PageAlignedMemory {
    /// O_DIRECT needs buffer address, length and file offset aligned to the logical block
    /// size; 4096 covers every block size Linux disks report today.
    static let alignment = 4096

    /// Smallest multiple of `alignment` that holds `byteCount`, never less than one page:
    /// a zero-byte request still gets a real, unique, aligned address.
    static func roundedCapacity(_ byteCount: Int) -> Int {
        precondition(byteCount >= 0, "negative capacity \(byteCount)")
        let pages = max(1, (byteCount + alignment - 1) / alignment)
        let (capacity, overflow) = pages.multipliedReportingOverflow(by: alignment)
        precondition(!overflow, "capacity \(byteCount) overflows")
        return capacity
    }

    /// `byteCount` must already be a multiple of `alignment`.
    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        var pointer: UnsafeMutableRawPointer?
        let status = posix_memalign(&pointer, alignment, byteCount)
        // Out of memory is the only failure left once size and alignment are valid,
        // and no caller of a buffer pool can do anything sensible about it.
        guard status == 0, let pointer else {
            fatalError("posix_memalign(\(alignment), \(byteCount)) failed with \(status)")
        }
        return pointer
    }

    static func free(_ pointer: UnsafeMutableRawPointer) {
        #if canImport(Darwin)
        Darwin.free(pointer)
        #elseif canImport(Musl)
        Musl.free(pointer)
        #else
        Glibc.free(pointer)
        #endif
    }
}

/// 4096-byte aligned heap buffer for O_DIRECT shard I/O. Capacity is rounded up to a multiple
/// of 4096 (at least one page). The memory is uninitialised; the buffer frees it on deinit.
///
/// Non-copyable so exactly one owner can free it. Sendable because ownership moves whole:
/// whoever holds the buffer is the only one who can reach its memory through it.
public struct AlignedBuffer: ~Copyable, @unchecked Sendable {
    public static let alignment: Int = PageAlignedMemory.alignment

    public let capacity: Int
    public let baseAddress: UnsafeMutableRawPointer

    /// Allocates at least `capacity` bytes with `posix_memalign`; traps only on OOM.
    public init(capacity: Int) {
        let rounded = PageAlignedMemory.roundedCapacity(capacity)
        self.capacity = rounded
        self.baseAddress = PageAlignedMemory.allocate(byteCount: rounded)
    }

    /// The whole capacity, not just what a caller asked for.
    public var bytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: baseAddress, count: capacity)
    }

    deinit {
        PageAlignedMemory.free(baseAddress)
    }
}
