import Foundation
import SeededRandom

/// Sequential write and read of one big file in 1 MiB calls, with content every target must
/// return exactly.
///
/// The content is pseudo-random (nothing can compress or deduplicate it), and every 4 KiB page
/// carries its block number in its first 8 bytes, so a target returning the right bytes at the
/// wrong offset, a stale block or zeros is caught. Stamping changes 256 words per MiB in place,
/// so preparing each write costs nothing measurable; checking a read is one memcmp per MiB.
struct StreamFile {
    static let blockBytes = 1 << 20
    static let pageBytes = 4096

    let path: String
    let bytes: Int

    init(path: String, bytes: Int) {
        precondition(bytes > 0 && bytes % Self.blockBytes == 0, "stream size must be a whole number of MiB")
        self.path = path
        self.bytes = bytes
    }

    var blocks: Int { bytes / Self.blockBytes }

    /// The pattern of every block before stamping (fixed seed: the same bytes in every run).
    private static func makeBase() -> ScratchBuffer {
        let buffer = ScratchBuffer(byteCount: blockBytes)
        var random = SplitMix64(seed: 0x636F_6D70_6172_6521)
        random.fill(buffer.bytes)
        return buffer
    }

    private static func stamp(_ buffer: ScratchBuffer, block: Int) {
        for page in stride(from: 0, to: blockBytes, by: pageBytes) {
            buffer.base.storeBytes(of: UInt64(block) ^ 0x5356_0000_0000_0000, toByteOffset: page, as: UInt64.self)
        }
    }

    /// Creates the file, writes it in 1 MiB calls, fsyncs and closes it — all timed, since
    /// fsync is what makes the bytes the target's. Throws when the size afterwards is wrong.
    func write() throws -> Double {
        let buffer = Self.makeBase()
        let start = monotonicNanoseconds()
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BenchError.io("create \(path)", errno) }
        do {
            for block in 0 ..< blocks {
                Self.stamp(buffer, block: block)
                try SystemIO.writeAll(fd, buffer.base, Self.blockBytes)
            }
            guard fsync(fd) == 0 else { throw BenchError.io("fsync \(path)", errno) }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw BenchError.io("close \(path)", errno) }
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        var info = stat()
        guard stat(path, &info) == 0 else { throw BenchError.io("stat \(path)", errno) }
        guard Int(info.st_size) == bytes else {
            throw BenchError.wrongResult("\(path) is \(info.st_size) bytes after writing \(bytes)")
        }
        return seconds
    }

    /// Reads the whole file in 1 MiB calls and compares every block with what was written
    /// (timed together; the compare is ~0.1 ms per MiB).
    func read() throws -> Double {
        let expected = Self.makeBase()
        let buffer = ScratchBuffer(byteCount: Self.blockBytes)
        let start = monotonicNanoseconds()
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError.io("open \(path)", errno) }
        defer { close(fd) }
        for block in 0 ... blocks {
            let count = try SeededFile.readSome(fd, buffer, path: path)
            if block == blocks {
                guard count == 0 else { throw BenchError.wrongResult("\(path) is longer than the \(bytes) bytes written") }
                break
            }
            guard count == Self.blockBytes else {
                throw BenchError.wrongResult("\(path): short read at block \(block) (\(count) bytes); file shorter than written")
            }
            Self.stamp(expected, block: block)
            guard memcmp(expected.base, buffer.base, Self.blockBytes) == 0 else {
                throw BenchError.wrongResult("\(path): block \(block) (offset \(block * Self.blockBytes)) differs from what was written: "
                                             + Self.describeMismatch(expected: expected, actual: buffer))
            }
        }
        return Double(monotonicNanoseconds() - start) / 1e9
    }

    /// Which 4 KiB pages of a block differ and what they hold instead — zeros, or (by their
    /// stamp) another block's data — so a report says more than "wrong".
    private static func describeMismatch(expected: ScratchBuffer, actual: ScratchBuffer) -> String {
        var differing: [Int] = []
        var zeroPages = 0
        var foreignStamps: [Int: Int] = [:]
        for page in 0 ..< blockBytes / pageBytes {
            let offset = page * pageBytes
            guard memcmp(expected.base + offset, actual.base + offset, pageBytes) != 0 else { continue }
            differing.append(page)
            let bytes = UnsafeRawBufferPointer(start: actual.base + offset, count: pageBytes)
            if bytes.allSatisfy({ $0 == 0 }) {
                zeroPages += 1
            } else {
                let stamp = actual.base.load(fromByteOffset: offset, as: UInt64.self) ^ 0x5356_0000_0000_0000
                if stamp < 1 << 32 { foreignStamps[Int(stamp), default: 0] += 1 }
            }
        }
        guard let first = differing.first, let last = differing.last else { return "no page differs" }
        var text = "\(differing.count) of \(blockBytes / pageBytes) pages differ (bytes \(first * pageBytes)..<\((last + 1) * pageBytes) of the block)"
        if zeroPages > 0 { text += ", \(zeroPages) all zeros" }
        if !foreignStamps.isEmpty {
            text += ", pages stamped as block " + foreignStamps.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        }
        return text
    }
}
