import Foundation
import SeededRandom

/// The content of one file of the "workloads" suite, made from a seed so any byte range can be
/// checked without a stored copy.
///
/// Every 4 KiB page is a 4 KiB slice of one fixed 1 MiB pseudo-random pattern (which slice
/// depends on the file's seed and the page number) whose first 16 bytes are replaced by a stamp:
/// the file's seed and the page number with its version. A target returning another file's
/// page, a page from the wrong offset, a stale version or zeros is caught, and making or
/// checking a page costs a memcpy or a memcmp, so checks can sit inside timed phases.
struct SeededFile {
    static let pageBytes = 4096
    private static let patternPages = 256

    /// Identifies the file's content; different files get different seeds.
    var seed: UInt64
    var size: Int
    /// Version of every page not in `pageVersions` (bumped by whole-file rewrites).
    var version: UInt32 = 0
    /// Pages rewritten in place, with their version.
    var pageVersions: [Int: UInt32] = [:]

    init(seed: UInt64, size: Int) {
        self.seed = seed
        self.size = size
    }

    /// A new whole-file version: every page changes.
    mutating func rewrite() {
        version &+= 1
        pageVersions.removeAll()
    }

    /// Writing one page in place (read-modify-write): only that page changes.
    mutating func bumpPage(_ page: Int) {
        pageVersions[page] = (pageVersions[page] ?? version) &+ 1
    }

    nonisolated(unsafe) private static let pattern: UnsafeMutableRawBufferPointer = {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: patternPages * pageBytes, alignment: 4096)
        var random = SplitMix64(seed: 0x776F_726B_6C6F_6164)
        random.fill(bytes)
        return bytes
    }()

    /// Writes page `page`'s 4 KiB into `destination`.
    private func makePage(_ page: Int, into destination: UnsafeMutableRawPointer) {
        let slice = Int((seed &+ UInt64(page) &* 0x9E37_79B9) % UInt64(Self.patternPages))
        destination.copyMemory(from: Self.pattern.baseAddress! + slice * Self.pageBytes, byteCount: Self.pageBytes)
        let pageVersion = pageVersions[page] ?? version
        destination.storeBytes(of: seed, toByteOffset: 0, as: UInt64.self)
        destination.storeBytes(of: UInt64(page) | UInt64(pageVersion) << 40, toByteOffset: 8, as: UInt64.self)
    }

    /// The expected bytes `offset ..< offset + count` (within the file) into `destination`.
    func fill(_ destination: UnsafeMutableRawPointer, offset: Int, count: Int) {
        forEachPage(offset: offset, count: count) { page, _, within, done, length in
            (destination + done).copyMemory(from: page + within, byteCount: length)
        }
    }

    /// Calls `body` for each page the range `offset ..< offset + count` touches, with the page's
    /// expected bytes, its index, where the range starts in it, how much of the range came
    /// before, and how many of its bytes are in the range.
    private func forEachPage(offset: Int, count: Int,
                             _ body: (UnsafeMutableRawPointer, Int, Int, Int, Int) throws -> Void) rethrows {
        let page = UnsafeMutableRawPointer.allocate(byteCount: Self.pageBytes, alignment: 16)
        defer { page.deallocate() }
        var done = 0
        while done < count {
            let position = offset + done
            let index = position / Self.pageBytes
            let within = position % Self.pageBytes
            let length = min(Self.pageBytes - within, count - done)
            makePage(index, into: page)
            try body(page, index, within, done, length)
            done += length
        }
    }

    /// Throws `wrongResult` naming `path` when `actual` is not bytes `offset ..< offset + count`.
    func check(_ actual: UnsafeRawPointer, offset: Int, count: Int, path: String) throws {
        try forEachPage(offset: offset, count: count) { page, index, within, done, length in
            let position = offset + done
            if memcmp(page + within, actual + done, length) != 0 {
                let got = UnsafeRawBufferPointer(start: actual + done, count: length)
                let zeros = got.allSatisfy { $0 == 0 }
                let first = (0 ..< length).first { got[$0] != page.load(fromByteOffset: within + $0, as: UInt8.self) } ?? 0
                throw BenchError.wrongResult("\(path): byte \(position + first) (page \(index), version "
                                             + "\(pageVersions[index] ?? version)) differs from what was written"
                                             + (zeros ? " (that page reads as zeros)" : ""))
            }
        }
    }

    /// Creates (or truncates) `path` and writes the whole file in calls of up to 1 MiB, then
    /// fsyncs when asked, and closes it.
    func write(to path: String, buffer: ScratchBuffer, fsync sync: Bool) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BenchError.io("create \(path)", errno) }
        do {
            var offset = 0
            while offset < size {
                let count = min(buffer.bytes.count, size - offset)
                fill(buffer.base, offset: offset, count: count)
                try SystemIO.writeAll(fd, buffer.base, count)
                offset += count
            }
            if sync { guard fsync(fd) == 0 else { throw BenchError.io("fsync \(path)", errno) } }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw BenchError.io("close \(path)", errno) }
    }

    /// Reads the whole of `path` (through `buffer`) and checks every byte and the length.
    /// Returns the bytes read.
    @discardableResult
    func verify(_ path: String, buffer: ScratchBuffer) throws -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError.io("open \(path)", errno) }
        defer { close(fd) }
        var offset = 0
        while true {
            let count = try SeededFile.readSome(fd, buffer, path: path)
            if count == 0 { break }
            guard offset + count <= size else {
                throw BenchError.wrongResult("\(path) is longer than the \(size) bytes written")
            }
            try check(buffer.base, offset: offset, count: count, path: path)
            offset += count
        }
        guard offset == size else { throw BenchError.wrongResult("\(path): read \(offset) bytes of the \(size) written") }
        return offset
    }

    /// Reads `count` bytes at `offset` with pread and checks them.
    func verifyRange(_ fd: Int32, _ path: String, offset: Int, count: Int, buffer: ScratchBuffer) throws {
        var done = 0
        while done < count {
            let n = pread(fd, buffer.base + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw BenchError.io("pread \(path)", errno)
            }
            if n == 0 { throw BenchError.wrongResult("\(path): short read at \(offset + done) (file of \(size) bytes)") }
            done += n
        }
        try check(buffer.base, offset: offset, count: count, path: path)
    }

    /// One read(2) filling as much of `buffer` as it can (loops over short reads); 0 at EOF.
    static func readSome(_ fd: Int32, _ buffer: ScratchBuffer, path: String) throws -> Int {
        var done = 0
        while done < buffer.bytes.count {
            let n = read(fd, buffer.base + done, buffer.bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw BenchError.io("read \(path)", errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// A distinct seed for file `index` of a workload.
    static func seed(_ workload: UInt64, _ index: Int) -> UInt64 {
        var mixer = SplitMix64(seed: workload ^ UInt64(index) &* 0xD1B5_4A32_D192_ED03)
        return mixer.next()
    }
}

/// Per-operation times, summarised as percentiles in milliseconds.
struct Latencies {
    private(set) var nanoseconds: [UInt64] = []

    mutating func record(_ value: UInt64) { nanoseconds.append(value) }
    mutating func append(_ other: Latencies) { nanoseconds += other.nanoseconds }
    var count: Int { nanoseconds.count }

    /// Nearest-rank percentile (`fraction` 0.5, 0.99) in milliseconds; 0 when nothing was recorded.
    func percentileMilliseconds(_ fraction: Double) -> Double {
        guard !nanoseconds.isEmpty else { return 0 }
        let sorted = nanoseconds.sorted()
        let rank = max(1, Int((fraction * Double(sorted.count)).rounded(.up)))
        return Double(sorted[min(rank, sorted.count) - 1]) / 1e6
    }

    /// A `.milliseconds` phase sample for one percentile.
    func sample(_ phase: String, _ fraction: Double) -> PhaseSample {
        PhaseSample(phase: phase, seconds: Double(nanoseconds.reduce(0, +)) / 1e9, bytes: 0,
                    operations: count, measured: percentileMilliseconds(fraction))
    }
}

/// Removes `path` and everything under it (untimed clean-up).
func removeTree(_ path: String) throws {
    do { try FileManager.default.removeItem(atPath: path) } catch {
        throw BenchError.setup("remove \(path): \(error)")
    }
}

/// The names in directory `path` (opendir/readdir), without "." and "..".
func directoryEntries(_ path: String) throws -> [String] {
    guard let stream = opendir(path) else { throw BenchError.io("opendir \(path)", errno) }
    defer { closedir(stream) }
    var names: [String] = []
    while true {
        errno = 0
        guard let entry = readdir(stream) else { break }
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        if name != "." && name != ".." { names.append(name) }
    }
    guard errno == 0 else { throw BenchError.io("readdir \(path)", errno) }
    return names
}

/// lstat(2) of `path`, throwing on failure.
func fileStatus(_ path: String) throws -> stat {
    var info = stat()
    guard lstat(path, &info) == 0 else { throw BenchError.io("stat \(path)", errno) }
    return info
}
