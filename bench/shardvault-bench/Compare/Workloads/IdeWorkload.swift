import Foundation
import SeededRandom

/// An IDE on a source tree: index everything once, then edit a few hot files (open, seek,
/// small reads, now and then a cold full read of another file), save the hot files with fsync,
/// and write build outputs with fsync.
struct IdeWorkload: Workload {
    struct Scale: Equatable {
        var directories: Int
        var filesPerDirectory: Int
        var minimumFileBytes = 10 << 10
        var maximumFileBytes = 100 << 10
        var hotFiles: Int
        var editCycles: Int
        /// Small reads per edit cycle and their size.
        var readsPerCycle = 8
        var smallReadBytes = 4096
        /// Every n-th cycle also reads a cold (not hot) file in full.
        var coldReadEvery = 10
        var buildOutputs: Int
        var buildOutputBytes: Int

        var files: Int { directories * filesPerDirectory }

        static func of(_ scale: BenchScale) -> Scale {
            switch scale {
            case .full: return Scale(directories: 40, filesPerDirectory: 50, hotFiles: 20, editCycles: 2000,
                                     buildOutputs: 100, buildOutputBytes: 512 << 10)
            case .medium: return Scale(directories: 10, filesPerDirectory: 50, hotFiles: 10, editCycles: 500,
                                       buildOutputs: 30, buildOutputBytes: 256 << 10)
            case .tiny: return Scale(directories: 3, filesPerDirectory: 20, hotFiles: 5, editCycles: 50,
                                     buildOutputs: 5, buildOutputBytes: 64 << 10)
            }
        }
    }

    let name = "ide"
    let scale: Scale

    init(scale: BenchScale) { self.scale = .of(scale) }
    init(parameters: Scale) { scale = parameters }

    var phases: [WorkloadPhase] {
        [
            WorkloadPhase(name: "index", title: "index (read all)", unit: .megabytesPerSecond,
                          method: "tree written and synced untimed, page cache dropped; then every source file opened and read "
                              + "in full, each compared with its seeded content"),
            WorkloadPhase(name: "edit", title: "edit cycles", unit: .operationsPerSecond,
                          method: "cycles/s: open a hot file, \(scale.readsPerCycle) seeks + \(scale.smallReadBytes)-byte reads, close; "
                              + "every \(scale.coldReadEvery)th cycle also a full read of a cold file; every read compared",
                          requires: ["index"]),
            WorkloadPhase(name: "save", title: "save hot files", unit: .operationsPerSecond,
                          method: "files/s: each hot file rewritten as editors save (write temp, fsync, rename over); "
                              + "afterwards (untimed) every hot file read back and compared", requires: ["index"]),
            WorkloadPhase(name: "build", title: "build outputs+fsync", unit: .megabytesPerSecond,
                          method: "\(scale.buildOutputs) outputs of \(humanBytes(scale.buildOutputBytes)) each created, written, "
                              + "fsynced, closed; afterwards (untimed) each read back and compared"),
        ]
    }

    var summary: String {
        "\(scale.files) source files of \(humanBytes(scale.minimumFileBytes))–\(humanBytes(scale.maximumFileBytes)) in "
            + "\(scale.directories) directories, \(scale.hotFiles) hot, \(scale.editCycles) edit cycles, "
            + "\(scale.buildOutputs) outputs of \(humanBytes(scale.buildOutputBytes))"
    }

    private static let seedBase: UInt64 = 0x6964_6500_0000_0000

    func run(in directory: String, context: WorkloadContext) throws -> [PhaseSample] {
        var samples: [PhaseSample] = []
        func record(_ sample: PhaseSample) {
            samples.append(sample)
            if let phase = phases.first(where: { $0.name == sample.phase }) { context.progress(phase, sample) }
        }
        var random = SplitMix64(seed: Self.seedBase)
        let buffer = ScratchBuffer(byteCount: 1 << 20)
        let sourceRoot = directory + "/src"
        try SystemIO.makeDirectory(sourceRoot)

        // Untimed: the source tree.
        var paths: [String] = []
        var files: [SeededFile] = []
        for d in 0 ..< scale.directories {
            let folder = sourceRoot + "/module\(d)"
            try SystemIO.makeDirectory(folder)
            for f in 0 ..< scale.filesPerDirectory {
                let size = scale.minimumFileBytes
                    + Int(random.next() % UInt64(scale.maximumFileBytes - scale.minimumFileBytes + 1))
                let file = SeededFile(seed: SeededFile.seed(Self.seedBase, paths.count), size: size)
                let path = folder + "/File\(f).swift"
                try file.write(to: path, buffer: buffer, fsync: false)
                paths.append(path)
                files.append(file)
            }
        }
        sync()
        if context.coldCacheUnavailable == nil { try PageCache.drop() }

        // index: read everything.
        try context.willVerify(paths)
        let index = try timed {
            var bytes = 0
            for (path, file) in zip(paths, files) { bytes += try file.verify(path, buffer: buffer) }
            return bytes
        }
        record(PhaseSample(phase: "index", seconds: index.seconds, bytes: index.result, operations: paths.count))

        // edit: hot files are spread over the tree.
        let hot = (0 ..< scale.hotFiles).map { $0 * paths.count / scale.hotFiles }
        let cold = (0 ..< paths.count).filter { !hot.contains($0) }
        let hotPaths = hot.map { paths[$0] }
        try context.willVerify(hotPaths)
        let small = ScratchBuffer(byteCount: scale.smallReadBytes)
        let edit = try timed {
            var bytes = 0
            for cycle in 0 ..< scale.editCycles {
                let which = hot[Int(random.next() % UInt64(hot.count))]
                let file = files[which]
                let fd = open(paths[which], O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw BenchError.io("open \(paths[which])", errno) }
                defer { close(fd) }
                for _ in 0 ..< scale.readsPerCycle {
                    let count = min(scale.smallReadBytes, file.size)
                    let offset = Int(random.next() % UInt64(file.size - count + 1))
                    try file.verifyRange(fd, paths[which], offset: offset, count: count, buffer: small)
                    bytes += count
                }
                if cycle % scale.coldReadEvery == scale.coldReadEvery - 1, !cold.isEmpty {
                    let other = cold[Int(random.next() % UInt64(cold.count))]
                    bytes += try files[other].verify(paths[other], buffer: buffer)
                }
            }
            return bytes
        }
        record(PhaseSample(phase: "edit", seconds: edit.seconds, bytes: edit.result, operations: scale.editCycles))
        // Small reads see parts of the hot files; check every hot file in full too (untimed).
        for which in hot { try files[which].verify(paths[which], buffer: buffer) }

        // save: editors write a temporary file, fsync it and rename it over the original.
        let save = try timed {
            for which in hot {
                files[which].rewrite()
                let temporary = paths[which] + ".tmp"
                try files[which].write(to: temporary, buffer: buffer, fsync: true)
                guard rename(temporary, paths[which]) == 0 else { throw BenchError.io("rename \(temporary)", errno) }
            }
        }
        record(PhaseSample(phase: "save", seconds: save.seconds, bytes: hot.reduce(0) { $0 + files[$1].size },
                           operations: hot.count))
        try context.willVerify(hotPaths)
        for which in hot { try files[which].verify(paths[which], buffer: buffer) }

        // build: outputs written with fsync, as a compiler and linker do.
        let buildRoot = directory + "/build"
        try SystemIO.makeDirectory(buildRoot)
        let outputs = (0 ..< scale.buildOutputs).map {
            (buildRoot + "/obj\($0).o", SeededFile(seed: SeededFile.seed(Self.seedBase ^ 0xB0, $0), size: scale.buildOutputBytes))
        }
        let build = try timed {
            for (path, file) in outputs { try file.write(to: path, buffer: buffer, fsync: true) }
        }
        record(PhaseSample(phase: "build", seconds: build.seconds, bytes: scale.buildOutputs * scale.buildOutputBytes,
                           operations: scale.buildOutputs))
        try context.willVerify(outputs.map(\.0))
        for (path, file) in outputs { try file.verify(path, buffer: buffer) }

        try removeTree(sourceRoot)
        try removeTree(buildRoot)
        return samples
    }
}
