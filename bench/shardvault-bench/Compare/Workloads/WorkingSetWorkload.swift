import Foundation
import SeededRandom

/// A working set of mixed-size files in directories of 100, used with a skewed access pattern:
/// most operations hit a few hot files. Operations are full reads, stat + a 4 KiB random read,
/// and 4 KiB read-modify-writes with fsync.
struct WorkingSetWorkload: Workload {
    /// Files of one size class: `fraction` of all files, sizes uniform in `bytes`.
    struct SizeClass: Equatable {
        var fraction: Double
        var bytes: ClosedRange<Int>
    }

    struct Scale: Equatable {
        var files: Int
        var filesPerDirectory = 100
        var sizeClasses: [SizeClass] = [
            SizeClass(fraction: 0.50, bytes: (1 << 10) ... (10 << 10)),
            SizeClass(fraction: 0.30, bytes: (10 << 10) ... (100 << 10)),
            SizeClass(fraction: 0.15, bytes: (100 << 10) ... (500 << 10)),
            SizeClass(fraction: 0.05, bytes: (512 << 10) ... (1 << 20)),
        ]
        /// Share of operations going to the hot, warm and cold tiers…
        var accessShares = [0.80, 0.15, 0.05]
        /// …which hold these shares of the files.
        var tierShares = [0.10, 0.20, 0.70]
        /// Share of full reads, stat + random reads, read-modify-writes.
        var operationMix = [0.70, 0.20, 0.10]
        var operations: Int

        var directories: Int { (files + filesPerDirectory - 1) / filesPerDirectory }

        /// The number of files in each size class (rounded; the last class takes the rest).
        var classCounts: [Int] {
            var counts = sizeClasses.dropLast().map { Int(($0.fraction * Double(files)).rounded()) }
            counts.append(files - counts.reduce(0, +))
            return counts
        }

        static func of(_ scale: BenchScale) -> Scale {
            switch scale {
            case .full: return Scale(files: 1000, operations: 10_000)
            case .medium: return Scale(files: 500, operations: 3000)
            case .tiny: return Scale(files: 100, operations: 300)
            }
        }
    }

    let name = "working-set"
    let scale: Scale

    init(scale: BenchScale) { self.scale = .of(scale) }
    init(parameters: Scale) { scale = parameters }

    var phases: [WorkloadPhase] {
        [
            WorkloadPhase(name: "create", title: "create set", unit: .megabytesPerSecond,
                          method: "\(scale.files) files created and written in \(scale.directories) directories, then syncfs; "
                              + "afterwards (untimed) every file read back and compared"),
            WorkloadPhase(name: "mixed", title: "mixed 70/20/10", unit: .operationsPerSecond,
                          method: "page cache dropped (untimed); \(scale.operations) operations, files picked 80/15/5 from tiers of "
                              + "10/20/70% of the files: 70% open+full read, 20% stat+4 KiB pread, 10% 4 KiB pread+pwrite+fsync; "
                              + "every read compared, sizes checked; afterwards (untimed) every modified file read back and compared",
                          requires: ["create"]),
        ]
    }

    var summary: String {
        "\(scale.files) files (50% 1–10 KiB, 30% 10–100 KiB, 15% 100–500 KiB, 5% 0.5–1 MiB) in directories of "
            + "\(scale.filesPerDirectory); \(scale.operations) mixed operations"
    }

    private static let seedBase: UInt64 = 0x7773_6574_0000_0000

    /// Sizes of every file, in file order (the classes shuffled over the files).
    func sizes() -> [Int] {
        var random = SplitMix64(seed: Self.seedBase ^ 1)
        var sizes: [Int] = []
        for (sizeClass, count) in zip(scale.sizeClasses, scale.classCounts) {
            let span = UInt64(sizeClass.bytes.count)
            for _ in 0 ..< count { sizes.append(sizeClass.bytes.lowerBound + Int(random.next() % span)) }
        }
        sizes.shuffle(using: &random)
        return sizes
    }

    func run(in directory: String, context: WorkloadContext) throws -> [PhaseSample] {
        var samples: [PhaseSample] = []
        func record(_ sample: PhaseSample) {
            samples.append(sample)
            if let phase = phases.first(where: { $0.name == sample.phase }) { context.progress(phase, sample) }
        }
        let buffer = ScratchBuffer(byteCount: 1 << 20)
        var files = sizes().enumerated().map { SeededFile(seed: SeededFile.seed(Self.seedBase, $0.offset), size: $0.element) }
        let paths = files.indices.map { directory + "/dir\($0 / scale.filesPerDirectory)/file\($0).dat" }
        let totalBytes = files.reduce(0) { $0 + $1.size }

        // create
        sync()
        let create = try timed {
            for d in 0 ..< scale.directories { try SystemIO.makeDirectory(directory + "/dir\(d)") }
            for (file, path) in zip(files, paths) { try file.write(to: path, buffer: buffer, fsync: false) }
            let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw BenchError.io("open \(directory)", errno) }
            defer { close(fd) }
            try SystemIO.syncFileSystem(of: fd)
        }
        record(PhaseSample(phase: "create", seconds: create.seconds, bytes: totalBytes, operations: files.count))
        try context.willVerify(paths)
        for (file, path) in zip(files, paths) { try file.verify(path, buffer: buffer) }

        // mixed
        var random = SplitMix64(seed: Self.seedBase ^ 2)
        let order = Array(files.indices).shuffled(using: &random)
        var tiers: [ArraySlice<Int>] = []
        var start = 0
        for (index, share) in scale.tierShares.enumerated() {
            let end = index == scale.tierShares.count - 1 ? order.count : min(order.count, start + max(1, Int(share * Double(files.count))))
            tiers.append(order[start ..< end])
            start = end
        }
        func pick(_ cumulative: [Double]) -> Int {
            let roll = Double(random.next() >> 11) / Double(1 << 53)
            var sum = 0.0
            for (index, share) in cumulative.enumerated() {
                sum += share
                if roll < sum { return index }
            }
            return cumulative.count - 1
        }
        var modified = Set<Int>()
        let page = ScratchBuffer(byteCount: SeededFile.pageBytes)
        if context.coldCacheUnavailable == nil { try PageCache.drop() }
        let mixed = try timed {
            var bytes = 0
            for _ in 0 ..< scale.operations {
                let tier = tiers[pick(scale.accessShares)]
                let which = tier[tier.startIndex + Int(random.next() % UInt64(tier.count))]
                let path = paths[which]
                switch pick(scale.operationMix) {
                case 0:
                    bytes += try files[which].verify(path, buffer: buffer)
                case 1:
                    var info = stat()
                    guard stat(path, &info) == 0 else { throw BenchError.io("stat \(path)", errno) }
                    guard Int(info.st_size) == files[which].size else {
                        throw BenchError.wrongResult("\(path): stat says \(info.st_size) bytes, \(files[which].size) were written")
                    }
                    let count = min(SeededFile.pageBytes, files[which].size)
                    let offset = Int(random.next() % UInt64(files[which].size - count + 1))
                    let fd = open(path, O_RDONLY | O_CLOEXEC)
                    guard fd >= 0 else { throw BenchError.io("open \(path)", errno) }
                    defer { close(fd) }
                    try files[which].verifyRange(fd, path, offset: offset, count: count, buffer: page)
                    bytes += count
                default:
                    let pages = (files[which].size + SeededFile.pageBytes - 1) / SeededFile.pageBytes
                    let index = Int(random.next() % UInt64(pages))
                    let offset = index * SeededFile.pageBytes
                    let count = min(SeededFile.pageBytes, files[which].size - offset)
                    let fd = open(path, O_RDWR | O_CLOEXEC)
                    guard fd >= 0 else { throw BenchError.io("open \(path)", errno) }
                    defer { close(fd) }
                    try files[which].verifyRange(fd, path, offset: offset, count: count, buffer: page)
                    files[which].bumpPage(index)
                    files[which].fill(page.base, offset: offset, count: count)
                    guard pwrite(fd, page.base, count, off_t(offset)) == count else { throw BenchError.io("pwrite \(path)", errno) }
                    guard fsync(fd) == 0 else { throw BenchError.io("fsync \(path)", errno) }
                    modified.insert(which)
                    bytes += 2 * count
                }
            }
            return bytes
        }
        record(PhaseSample(phase: "mixed", seconds: mixed.seconds, bytes: mixed.result, operations: scale.operations))
        let changed = modified.sorted()
        if !changed.isEmpty { try context.willVerify(changed.map { paths[$0] }) }
        for which in changed { try files[which].verify(paths[which], buffer: buffer) }

        for d in 0 ..< scale.directories { try removeTree(directory + "/dir\(d)") }
        return samples
    }
}
