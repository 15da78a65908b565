import Foundation

/// Where `put` pulls object bytes from. `read` fills as much of `buffer` as it can and
/// returns how many bytes it wrote; 0 means the source is exhausted.
public protocol ByteSource {
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Where `get` pushes object bytes to, in order.
public protocol ByteSink {
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// Bytes already in memory.
public struct BufferSource: ByteSource {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    /// `bytes` must stay valid while the source is read.
    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - position)
        if count > 0 {
            buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + position, byteCount: count)
            position += count
        }
        return count
    }
}

/// An open file descriptor (a file, a pipe, stdin). The descriptor is not closed.
public struct FileDescriptorSource: ByteSource {
    public let descriptor: Int32
    public init(descriptor: Int32) { self.descriptor = descriptor }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw VolumeIOError.lastError("read", "fd \(descriptor)") }
        }
    }
}

/// Collects everything into an array.
public struct ArraySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public init(reservingCapacity: Int = 0) { bytes.reserveCapacity(reservingCapacity) }
    public mutating func write(_ chunk: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: chunk) }
}

/// Writes to an open file descriptor (a file, a pipe, stdout). The descriptor is not closed.
public struct FileDescriptorSink: ByteSink {
    public let descriptor: Int32
    public init(descriptor: Int32) { self.descriptor = descriptor }
    public mutating func write(_ chunk: UnsafeRawBufferPointer) throws {
        try FileOperations.writeAll(descriptor, chunk, path: "fd \(descriptor)")
    }
}

/// Counts and drops everything (benchmarks, scrubbing reads).
public struct DiscardingSink: ByteSink {
    public private(set) var byteCount = 0
    public init() {}
    public mutating func write(_ chunk: UnsafeRawBufferPointer) throws { byteCount += chunk.count }
}
