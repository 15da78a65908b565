import Foundation
import SeededRandom

/// A photo library browser: import a library of large files, read every file's header (the
/// first 64 KiB: EXIF and the embedded preview) cold, open some fully, and export copies.
///
/// Content is a seeded random 1 MiB block whose every 4 KiB page starts with the file's and the
/// page's number, so any range is checked without keeping the library in memory.
struct PhotoWorkload: Workload {
    struct Scale: Equatable {
        var files: Int
        var minBytes: Int
        var maxBytes: Int
        var headerBytes = 64 << 10
        /// Every n-th file is read fully.
        var fullReadEvery: Int
        /// Every n-th file (from the second) is exported.
        var exportEvery: Int

        static func of(_ scale: BenchScale) -> Scale {
            switch scale {
            case .full: return Scale(files: 40, minBytes: 2 << 20, maxBytes: 25 << 20, fullReadEvery: 4, exportEvery: 5)
            case .medium: return Scale(files: 16, minBytes: 1 << 20, maxBytes: 8 << 20, fullReadEvery: 4, exportEvery: 4)
            case .tiny: return Scale(files: 4, minBytes: 128 << 10, maxBytes: 1 << 20, fullReadEvery: 2, exportEvery: 2)
            }
        }

        var fullReads: [Int] { Array(stride(from: 0, to: files, by: fullReadEvery)) }
        var exports: [Int] { Array(stride(from: 1, to: files, by: exportEvery)) }
    }

    let name = "photo"
    let scale: Scale
    static let seed: UInt64 = 0x5048_4F54_4F
    private static let chunk = 1 << 20
    private static let page = 4096

    init(scale: BenchScale) { self.scale = Scale.of(scale) }

    var phases: [WorkloadPhase] {
        [
            WorkloadPhase(name: "import", title: "import", unit: .megabytesPerSecond,
                          method: "write \(scale.files) files of \(humanBytes(scale.minBytes))–\(humanBytes(scale.maxBytes)) in 1 MiB calls, fsync each; checked by the reads"),
            WorkloadPhase(name: "headers", title: "header reads cold", unit: .operationsPerSecond,
                          method: "drop_caches, then open, read the first \(humanBytes(scale.headerBytes)), close, for every file; each header compared", requires: ["import"]),
            WorkloadPhase(name: "open", title: "full reads cold", unit: .megabytesPerSecond,
                          method: "drop_caches, then read \(scale.fullReads.count) files whole in 1 MiB calls; every byte compared", requires: ["import"]),
            WorkloadPhase(name: "export", title: "export copies", unit: .megabytesPerSecond,
                          method: "drop_caches, then copy \(scale.exports.count) files to export/ in 1 MiB calls, syncfs; every exported byte compared", requires: ["import"]),
        ]
    }

    var summary: String {
        "\(scale.files) files of \(humanBytes(scale.minBytes))–\(humanBytes(scale.maxBytes)); \(scale.fullReads.count) read whole, \(scale.exports.count) exported"
    }

    /// The seeded block every chunk starts from.
    private static func base() -> ScratchBuffer {
        let buffer = ScratchBuffer(byteCount: chunk)
        var random = SplitMix64(seed: seed)
        random.fill(buffer.bytes)
        return buffer
    }

    /// Chunk `number` of file `file` into `buffer` (which holds `base` stamped for another chunk).
    private static func stamp(_ buffer: ScratchBuffer, file: Int, chunk number: Int) {
        let pages = Self.chunk / Self.page
        for index in 0 ..< pages {
            let tag = UInt64(file) << 40 | UInt64(number * pages + index)
            buffer.base.storeBytes(of: tag ^ 0x5048_0000_0000_0000, toByteOffset: index * Self.page, as: UInt64.self)
        }
    }

    /// Reads `path` from offset 0 up to `limit` bytes in 1 MiB calls, comparing each with the
    /// pattern of file `file`; the whole file must be `size` bytes when `limit` is nil.
    private func readAndCheck(_ path: String, file: Int, size: Int, limit: Int?, expected: ScratchBuffer,
                              buffer: ScratchBuffer) throws -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError.io("open \(path)", errno) }
        defer { close(fd) }
        let wanted = min(size, limit ?? size)
        var offset = 0
        while offset < wanted || limit == nil {
            let count = read(fd, buffer.base, min(Self.chunk, (limit ?? Int.max) - offset))
            if count < 0 {
                if errno == EINTR { continue }
                throw BenchError.io("read \(path)", errno)
            }
            if count == 0 { break }
            guard offset + count <= size else { throw BenchError.wrongResult("\(path) is longer than the \(size) bytes written") }
            // 1 MiB reads from offset 0 stay aligned to chunks unless a read comes back short.
            var checked = 0
            while checked < count {
                let position = offset + checked
                let number = position / Self.chunk
                let within = position % Self.chunk
                let span = min(count - checked, Self.chunk - within)
                Self.stamp(expected, file: file, chunk: number)
                guard memcmp(expected.base + within, buffer.base + checked, span) == 0 else {
                    throw BenchError.wrongResult("\(path): bytes \(position)..<\(position + span) differ from what was written")
                }
                checked += span
            }
            offset += count
        }
        guard offset == wanted else { throw BenchError.wrongResult("\(path): read \(offset) bytes, expected \(wanted)") }
        return offset
    }

    func run(in directory: String, context: WorkloadContext) throws -> [PhaseSample] {
        let recorder = PhaseRecorder(phases: phases, context: context)
        var random = SplitMix64(seed: Self.seed)
        let sizes = (0 ..< scale.files).map { _ in scale.minBytes + Int(random.next() % UInt64(scale.maxBytes - scale.minBytes + 1)) }
        let library = directory + "/library"
        let export = directory + "/export"
        try SystemIO.makeDirectory(library)
        try SystemIO.makeDirectory(export)
        func photo(_ index: Int) -> String { library + String(format: "/IMG_%04d.RAW", index) }
        let buffer = ScratchBuffer(byteCount: Self.chunk)
        let expected = ScratchBuffer(byteCount: Self.chunk)
        let seedBlock = Self.base()
        memcpy(buffer.base, seedBlock.base, Self.chunk)
        memcpy(expected.base, buffer.base, Self.chunk)

        let imported = try timed {
            for index in 0 ..< scale.files {
                let fd = open(photo(index), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw BenchError.io("create \(photo(index))", errno) }
                defer { close(fd) }
                for offset in stride(from: 0, to: sizes[index], by: Self.chunk) {
                    Self.stamp(buffer, file: index, chunk: offset / Self.chunk)
                    try SystemIO.writeAll(fd, buffer.base, min(Self.chunk, sizes[index] - offset))
                }
                guard fsync(fd) == 0 else { throw BenchError.io("fsync \(photo(index))", errno) }
            }
        }
        let total = sizes.reduce(0, +)
        recorder.record("import", seconds: imported.seconds, bytes: total, operations: scale.files)

        try recorder.dropCaches()
        let headers = try timed {
            for index in 0 ..< scale.files {
                _ = try readAndCheck(photo(index), file: index, size: sizes[index], limit: scale.headerBytes, expected: expected, buffer: buffer)
            }
        }
        recorder.record("headers", seconds: headers.seconds, bytes: scale.files * scale.headerBytes, operations: scale.files)

        try context.willVerify(scale.fullReads.map(photo))
        try recorder.dropCaches()
        let opened = try timed {
            try scale.fullReads.reduce(0) { sum, index in
                sum + (try readAndCheck(photo(index), file: index, size: sizes[index], limit: nil, expected: expected, buffer: buffer))
            }
        }
        recorder.record("open", seconds: opened.seconds, bytes: opened.result, operations: scale.fullReads.count)

        try recorder.dropCaches()
        let exported = try timed { () -> Int in
            var bytes = 0
            for index in scale.exports {
                bytes += try WorkloadFiles.copy(photo(index), to: export + String(format: "/export_%04d.RAW", index), buffer: buffer)
            }
            try WorkloadFiles.syncFileSystem(directory)
            return bytes
        }
        let copies = scale.exports.map { export + String(format: "/export_%04d.RAW", $0) }
        try context.willVerify(copies)
        for (index, path) in zip(scale.exports, copies) {
            _ = try readAndCheck(path, file: index, size: sizes[index], limit: nil, expected: expected, buffer: buffer)
        }
        recorder.record("export", seconds: exported.seconds, bytes: exported.result, operations: scale.exports.count)

        try WorkloadFiles.removeContents(of: directory)
        return recorder.samples
    }
}
