import Foundation
import SeededRandom

/// A media player scrubbing through a big file: 256 KiB sequential reads in short runs, each
/// run starting somewhere else (a seek), back to back without sleeps, cold. The runs cut the
/// file and are visited in a random order, so every block is read once and from disk. Reports the
/// read throughput and the latency of the first read after each seek.
struct MediaWorkload: Workload {
    struct Scale: Equatable {
        var fileBytes: Int
        var readBytes = 256 << 10
        /// Reads in one run between seeks: uniform in this range.
        var readsPerRun = 1 ... 8

        var reads: Int { fileBytes / readBytes }

        static func of(_ scale: BenchScale) -> Scale {
            switch scale {
            case .full: return Scale(fileBytes: 100 << 20)
            case .medium: return Scale(fileBytes: 32 << 20)
            case .tiny: return Scale(fileBytes: 8 << 20)
            }
        }
    }

    let name = "media"
    let scale: Scale

    init(scale: BenchScale) { self.scale = .of(scale) }
    init(parameters: Scale) { scale = parameters }

    var phases: [WorkloadPhase] {
        let size = humanBytes(scale.fileBytes)
        let read = humanBytes(scale.readBytes)
        return [
            WorkloadPhase(name: "read", title: "\(read) reads with seeks", unit: .megabytesPerSecond,
                          method: "\(size) file written+fsynced and page cache dropped (untimed); \(scale.reads) preads of \(read), "
                              + "in runs of \(scale.readsPerRun.lowerBound)–\(scale.readsPerRun.upperBound) consecutive reads, the runs "
                              + "(which cut the file) in a seeded random order, so each block is read once; timed: the pread calls (the compare of every read after it is not)"),
            WorkloadPhase(name: "seek-p50", title: "seek p50", unit: .milliseconds,
                          method: "median time of the first pread after each seek (including the first read of the file)",
                          requires: ["read"]),
            WorkloadPhase(name: "seek-p99", title: "seek p99", unit: .milliseconds,
                          method: "99th percentile time of the first pread after each seek", requires: ["read"]),
        ]
    }

    var summary: String { "\(humanBytes(scale.fileBytes)) file read in \(humanBytes(scale.readBytes)) calls with seeks" }

    private static let seedBase: UInt64 = 0x6D65_6469_6100_0000

    func run(in directory: String, context: WorkloadContext) throws -> [PhaseSample] {
        let path = directory + "/movie.mkv"
        let file = SeededFile(seed: SeededFile.seed(Self.seedBase, 0), size: scale.fileBytes)
        let buffer = ScratchBuffer(byteCount: scale.readBytes)
        try file.write(to: path, buffer: ScratchBuffer(byteCount: 1 << 20), fsync: true)
        if context.coldCacheUnavailable == nil { try PageCache.drop() }

        // The plan: the file cut into runs of consecutive reads, visited in a seeded random
        // order, so every block is read once (cold) and every run starts with a seek.
        var random = SplitMix64(seed: Self.seedBase)
        var runs: [(start: Int, reads: Int)] = []
        var planned = 0
        let span = UInt64(scale.readsPerRun.count)
        while planned < scale.reads {
            let length = min(scale.readsPerRun.lowerBound + Int(random.next() % span), scale.reads - planned)
            runs.append((planned, length))
            planned += length
        }
        runs.shuffle(using: &random)

        try context.willVerify([path])
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError.io("open \(path)", errno) }
        var seeks = Latencies()
        var readNanoseconds: UInt64 = 0
        do {
            defer { close(fd) }
            for run in runs {
                for index in 0 ..< run.reads {
                    let offset = (run.start + index) * scale.readBytes
                    let begin = monotonicNanoseconds()
                    var done = 0
                    while done < scale.readBytes {
                        let count = pread(fd, buffer.base + done, scale.readBytes - done, off_t(offset + done))
                        if count < 0 {
                            if errno == EINTR { continue }
                            throw BenchError.io("pread \(path)", errno)
                        }
                        if count == 0 { throw BenchError.wrongResult("\(path): short read at \(offset + done) of \(scale.fileBytes) bytes") }
                        done += count
                    }
                    let elapsed = monotonicNanoseconds() - begin
                    readNanoseconds += elapsed
                    if index == 0 { seeks.record(elapsed) }
                    try file.check(buffer.base, offset: offset, count: scale.readBytes, path: path)
                }
            }
        }
        let samples = [
            PhaseSample(phase: "read", seconds: Double(readNanoseconds) / 1e9, bytes: scale.reads * scale.readBytes,
                        operations: scale.reads),
            seeks.sample("seek-p50", 0.5),
            seeks.sample("seek-p99", 0.99),
        ]
        for sample in samples { context.progress(phases.first { $0.name == sample.phase }!, sample) }
        // Every block was compared; this also checks the length (untimed).
        try file.verify(path, buffer: ScratchBuffer(byteCount: 1 << 20))
        guard unlink(path) == 0 else { throw BenchError.io("unlink \(path)", errno) }
        return samples
    }
}
