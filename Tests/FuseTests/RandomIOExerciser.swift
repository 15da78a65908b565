import Foundation
import Glibc
import SeededRandom

/// fsx-style random I/O on one file in a mount, checked against an in-memory copy: writes
/// at random offsets (past the end too, leaving holes), truncates up and down, reads,
/// reads and writes through shared mappings (msync'd), fsync, page-cache eviction and
/// close/reopen. Every read is compared with the copy, and the first difference stops the
/// run with the seed, the operation and the operations before it.
///
/// The run goes through phases with different size limits, so the file keeps crossing the
/// vault's thresholds: the 2 KiB inline limit, 32 KiB chunks and 4 MiB blocks. Operations
/// are mostly small; the expensive ones (anything that makes the daemon seal blocks) are
/// rare, which keeps 50,000 operations within a minute or two.
final class RandomIOExerciser {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    enum Kind: String, CaseIterable {
        case write, read, mapRead, mapWrite, truncate, stat, sync, evict, reopen
    }

    /// What the run has exercised, so the test can insist the interesting cases happened.
    struct Coverage {
        var counts: [Kind: Int] = [:]
        /// Seconds spent per kind of operation, to see where a slow run went.
        var seconds: [Kind: Double] = [:]
        var holesCreated = 0
        var inlineCrossings = 0
        var writesAcrossBlocks = 0
        var operationsAboveOneBlock = 0
    }

    static let blockSize = 4 << 20
    static let inlineLimit = 2048
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// Operations per phase; each phase draws a new size limit.
    static let phaseLength = 2_500
    /// Size limits of the phases: inline, a few chunks, within a block, past one block;
    /// with the chance of each per hundred (large files make every sync slower).
    static let phaseLimits = [4 << 10, 200 << 10, 1 << 20, 6 << 20]
    static let phaseChances = [30, 30, 25, 15]
    /// At most this many phases in a row without the largest limit. Drawn freely, the 20
    /// phases of a 50,000-operation run missed it once in 25 runs (0.85^20): that run never
    /// went past one block, and its coverage check failed.
    static let phasesBetweenLargest = 6

    let path: String
    let seed: UInt64
    /// The reference copy: what the file must contain.
    let model = ReferenceFile(capacity: phaseLimits.max()! + 4096)
    private(set) var coverage = Coverage()
    private(set) var operationNumber = 0
    private var random: SplitMix64
    private var descriptor: Int32 = -1
    private var limit = phaseLimits[0]
    private var phasesSinceLargest = 0
    /// Every operation's description, for failure messages.
    private var history: [String] = []
    /// Bytes to write, and room for reads.
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: phaseLimits.max()! + 8192, alignment: 4096)

    deinit {
        closeFile()
        buffer.deallocate()
    }

    /// Creates (or empties) the file at `path`.
    init(path: String, seed: UInt64) throws {
        self.path = path
        self.seed = seed
        random = SplitMix64(seed: seed)
        descriptor = open(path, O_CREAT | O_TRUNC | O_RDWR, 0o644)
        guard descriptor >= 0 else { throw Failure(description: "create \(path): errno \(errno)") }
    }

    /// Runs `count` more random operations.
    func run(_ count: Int) throws {
        for _ in 0 ..< count {
            if operationNumber % Self.phaseLength == 0 { try startPhase() }
            operationNumber += 1
            let kind = pickKind()
            coverage.counts[kind, default: 0] += 1
            if model.count > Self.blockSize { coverage.operationsAboveOneBlock += 1 }
            let started = DispatchTime.now().uptimeNanoseconds
            try perform(kind)
            coverage.seconds[kind, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        }
    }

    /// Reads the whole file and compares it, and its size, with the copy.
    func verifyWholeFile(_ context: String) throws {
        var status = stat()
        try check(fstat(descriptor, &status) == 0, "fstat: errno \(errno)")
        try check(Int(status.st_size) == model.count, "\(context): size \(status.st_size), expected \(model.count)")
        var offset = 0
        while offset < model.count {
            let length = min(1 << 20, model.count - offset)
            try compareRead(offset: offset, length: length, context: context)
            offset += length
        }
    }

    func closeFile() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    func reopenFile() throws {
        closeFile()
        descriptor = open(path, O_RDWR)
        try check(descriptor >= 0, "reopen: errno \(errno)")
    }

    // MARK: - Choosing

    private func startPhase() throws {
        var draw = Int.random(in: 0 ..< 100, using: &random)
        var phase = Self.phaseChances.firstIndex { chance in
            draw -= chance
            return draw < 0
        }!
        if phasesSinceLargest >= Self.phasesBetweenLargest { phase = Self.phaseLimits.count - 1 }
        phasesSinceLargest = phase == Self.phaseLimits.count - 1 ? 0 : phasesSinceLargest + 1
        limit = Self.phaseLimits[phase]
        if model.count > limit { try truncate(to: Int.random(in: 0 ... limit, using: &random)) }
    }

    /// Weights per thousand. Sync-like operations make the daemon seal and store blocks.
    private func pickKind() -> Kind {
        let draw = Int.random(in: 0 ..< 1000, using: &random)
        switch draw {
        case ..<370: return .write
        case ..<740: return .read
        case ..<820: return .mapRead
        case ..<835: return .mapWrite
        case ..<875: return .truncate
        case ..<960: return .stat
        case ..<968: return .sync
        case ..<983: return .evict
        default: return .reopen
        }
    }

    /// Mostly small lengths, sometimes up to a few chunks, rarely up to 1 MiB.
    private func pickLength() -> Int {
        let draw = Int.random(in: 0 ..< 100, using: &random)
        let most = draw < 80 ? 4096 : draw < 97 ? 96 << 10 : 1 << 20
        return Int.random(in: 1 ... most, using: &random)
    }

    /// An offset near the size limit's interesting points half the time: chunk, block and
    /// inline boundaries and the current end of file.
    private func pickOffset(upTo bound: Int) -> Int {
        guard bound > 0 else { return 0 }
        if Bool.random(using: &random) {
            let anchors = [Self.inlineLimit, 32 << 10, Self.blockSize, model.count].filter { $0 <= bound }
            if let anchor = anchors.randomElement(using: &random) {
                return max(0, min(bound, anchor + Int.random(in: -300 ... 300, using: &random)))
            }
        }
        return Int.random(in: 0 ... bound, using: &random)
    }

    // MARK: - Operations

    private func perform(_ kind: Kind) throws {
        switch kind {
        case .write:
            let offset = pickOffset(upTo: limit - 1)
            try write(offset: offset, length: min(pickLength(), limit - offset))
        case .read:
            let offset = pickOffset(upTo: model.count + 4096)
            let length = pickLength()
            log("read \(offset)+\(length)")
            try compareRead(offset: offset, length: length, context: "read")
        case .mapRead, .mapWrite:
            guard model.count > 0 else { return try perform(.write) }
            let offset = pickOffset(upTo: model.count - 1)
            let length = min(pickLength(), model.count - offset)
            try mapped(offset: offset, length: length, writing: kind == .mapWrite)
        case .truncate:
            try truncate(to: pickOffset(upTo: limit))
        case .stat:
            log("stat")
            var status = stat()
            try check(fstat(descriptor, &status) == 0, "fstat: errno \(errno)")
            try check(Int(status.st_size) == model.count, "st_size \(status.st_size), expected \(model.count)")
        case .sync:
            log("fsync")
            try check(fsync(descriptor) == 0, "fsync: errno \(errno)")
        case .evict:
            // Dirty pages cannot be dropped, so write them back first; the reads that follow
            // then come from the daemon instead of the kernel's page cache.
            log("fsync + fadvise(DONTNEED)")
            try check(fsync(descriptor) == 0, "fsync: errno \(errno)")
            try check(posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED) == 0, "fadvise failed")
        case .reopen:
            log("close + open")
            try reopenFile()
        }
    }

    private func write(offset: Int, length: Int) throws {
        log("write \(offset)+\(length) (size \(model.count))")
        fillBuffer(length)
        let written = pwrite(descriptor, buffer.baseAddress, length, off_t(offset))
        try check(written == length, "pwrite returned \(written), errno \(errno)")
        if offset > model.count { coverage.holesCreated += 1 }
        if offset / Self.blockSize != (offset + length - 1) / Self.blockSize { coverage.writesAcrossBlocks += 1 }
        noteInlineCrossing(to: max(model.count, offset + length))
        model.write(UnsafeRawBufferPointer(rebasing: buffer[0 ..< length]), at: offset, by: operationNumber)
    }

    private func truncate(to size: Int) throws {
        log("truncate \(model.count) -> \(size)")
        try check(ftruncate(descriptor, off_t(size)) == 0, "ftruncate: errno \(errno)")
        noteInlineCrossing(to: size)
        model.truncate(to: size, by: operationNumber)
    }

    /// Maps the pages around [offset, offset+length) shared; reads and compares them, or
    /// writes new bytes and msyncs (which makes the kernel send the pages to the daemon).
    private func mapped(offset: Int, length: Int, writing: Bool) throws {
        log("\(writing ? "mmap write" : "mmap read") \(offset)+\(length) (size \(model.count))")
        let start = offset / Self.pageSize * Self.pageSize
        let mapLength = offset + length - start
        let protection = writing ? PROT_READ | PROT_WRITE : PROT_READ
        guard let base = mmap(nil, mapLength, protection, MAP_SHARED, descriptor, off_t(start)), base != MAP_FAILED else {
            throw failure("mmap: errno \(errno)")
        }
        defer { munmap(base, mapLength) }
        let bytes = UnsafeMutableRawBufferPointer(start: base + (offset - start), count: length)
        if writing {
            fillBuffer(length)
            bytes.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[0 ..< length]))
            try check(msync(base, mapLength, MS_SYNC) == 0, "msync: errno \(errno)")
            model.write(UnsafeRawBufferPointer(rebasing: buffer[0 ..< length]), at: offset, by: operationNumber)
        } else {
            try compare(UnsafeRawBufferPointer(bytes), offset: offset, context: "mmap read")
        }
    }

    private func compareRead(offset: Int, length: Int, context: String) throws {
        var done = 0
        while done < length {
            let count = pread(descriptor, buffer.baseAddress! + done, length - done, off_t(offset + done))
            try check(count >= 0, "pread \(offset + done)+\(length - done): errno \(errno)")
            if count == 0 { break }
            done += count
        }
        let expected = max(0, min(length, model.count - offset))
        try check(done == expected, "\(context) \(offset)+\(length): got \(done) bytes, expected \(expected) (size \(model.count))")
        try compare(UnsafeRawBufferPointer(rebasing: buffer[0 ..< done]), offset: offset, context: context)
    }

    private func compare(_ bytes: UnsafeRawBufferPointer, offset: Int, context: String) throws {
        guard bytes.count > 0 else { return }
        let expected = model.bytes(offset ..< offset + bytes.count)
        guard memcmp(expected.baseAddress!, bytes.baseAddress!, bytes.count) != 0 else { return }
        let first = (0 ..< bytes.count).first { bytes[$0] != expected[$0] }!
        var last = first
        while last + 1 < bytes.count && bytes[last + 1] != expected[last + 1] { last += 1 }
        let writer = model.lastWriter(of: offset + first).map { "written by operation #\($0)" } ?? "a hole"
        throw failure("\(context): bytes differ from offset \(offset + first) for \(last - first + 1) bytes "
            + "(got 0x\(String(bytes[first], radix: 16)), expected 0x\(String(expected[first], radix: 16)), \(writer); "
            + "size \(model.count))")
    }

    // MARK: - Bookkeeping

    private func fillBuffer(_ length: Int) {
        random.fill(UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< length]))
    }

    private func noteInlineCrossing(to newSize: Int) {
        if (model.count <= Self.inlineLimit) != (newSize <= Self.inlineLimit) { coverage.inlineCrossings += 1 }
    }

    private func log(_ operation: String) {
        history.append("#\(operationNumber) \(operation)")
    }

    private func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw failure(message()) }
    }

    /// The message, the last 40 operations, and older ones a message names ("#N"); the
    /// whole history goes to a file next to the test's temporary files.
    private func failure(_ message: String) -> Failure {
        let historyPath = NSTemporaryDirectory() + "shardvault-fsx-\(seed).log"
        try? history.joined(separator: "\n").write(toFile: historyPath, atomically: true, encoding: .utf8)
        let recent = history.suffix(40)
        let named = message.split(separator: "#").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
        let older = named.flatMap { number in
            history.prefix(history.count - recent.count).filter { $0.hasPrefix("#\(number) ") }
        }
        return Failure(description: "fsx seed \(seed) (replay: SHARDVAULT_FSX_SEED=\(seed)), operation #\(operationNumber): "
            + message + (older.isEmpty ? "" : "\nnamed operations:\n" + older.joined(separator: "\n"))
            + "\nlast operations (all of them: \(historyPath)):\n" + recent.joined(separator: "\n"))
    }
}

/// The bytes a file must hold, in one fixed allocation (the exerciser's hot path must not
/// copy element by element: the tests are built without optimisation), plus the writes and
/// truncations that produced them, so a failure can say which operation wrote a lost byte.
final class ReferenceFile {
    private let storage: UnsafeMutableRawBufferPointer
    private(set) var count = 0
    /// (operation, first byte, end) of each write; a truncation is (operation, size, -1).
    private var changes: [(operation: Int, start: Int, end: Int)] = []

    init(capacity: Int) {
        storage = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: storage[range])
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int, by operation: Int) {
        if offset > count { memset(storage.baseAddress! + count, 0, offset - count) }
        (storage.baseAddress! + offset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        count = max(count, offset + bytes.count)
        changes.append((operation, offset, offset + bytes.count))
    }

    func truncate(to size: Int, by operation: Int) {
        if size > count { memset(storage.baseAddress! + count, 0, size - count) }
        count = size
        changes.append((operation, size, -1))
    }

    /// The operation whose bytes `offset` holds now, or nil when it is a hole.
    func lastWriter(of offset: Int) -> Int? {
        for change in changes.reversed() {
            if change.end < 0 && change.start <= offset { return nil }
            if change.start <= offset && offset < change.end { return change.operation }
        }
        return nil
    }
}
