import Foundation
import SeededRandom

/// A deep, regular directory tree of small files: create it, walk it (readdir + stat of every
/// entry, several times), and read random files each followed by a stat of every parent
/// directory, as path resolution in tools and language runtimes does.
struct TreeWorkload: Workload {
    struct Scale: Equatable {
        /// Levels of directories below the tree's root.
        var depth: Int
        var directoriesPerLevel = 6
        /// Files in every directory below the root.
        var filesPerDirectory = 5
        var minimumFileBytes = 512
        var maximumFileBytes = 4096
        var walkPasses = 4
        var randomReads: Int

        /// Directories at level k (1 ... depth): directoriesPerLevel^k.
        func directories(atLevel level: Int) -> Int {
            (0 ..< level).reduce(1) { product, _ in product * directoriesPerLevel }
        }

        var directories: Int { (1 ... depth).reduce(0) { $0 + directories(atLevel: $1) } }
        var files: Int { directories * filesPerDirectory }

        static func of(_ scale: BenchScale) -> Scale {
            switch scale {
            case .full: return Scale(depth: 5, randomReads: 5000)
            case .medium: return Scale(depth: 4, randomReads: 2000)
            case .tiny: return Scale(depth: 2, randomReads: 200)
            }
        }
    }

    let name = "tree"
    let scale: Scale

    init(scale: BenchScale) { self.scale = .of(scale) }
    init(parameters: Scale) { scale = parameters }

    var phases: [WorkloadPhase] {
        [
            WorkloadPhase(name: "create", title: "create tree", unit: .operationsPerSecond,
                          method: "entries/s: \(scale.directories) mkdir and \(scale.files) files created, written and closed, "
                              + "then syncfs; afterwards (untimed) every file read back and compared"),
            WorkloadPhase(name: "walk", title: "walk ×\(scale.walkPasses)", unit: .operationsPerSecond,
                          method: "entries/s: page cache dropped (untimed), then \(scale.walkPasses) passes of recursive "
                              + "opendir/readdir + lstat of every entry; every pass's names, types and file sizes checked",
                          requires: ["create"]),
            WorkloadPhase(name: "random-read", title: "random read + stat parents", unit: .operationsPerSecond,
                          method: "files/s: \(scale.randomReads) random files opened, read in full and compared, each followed by "
                              + "stat of every parent directory up to the tree's root", requires: ["create"]),
        ]
    }

    var summary: String {
        "depth \(scale.depth), \(scale.directoriesPerLevel) directories per level (\(scale.directories) directories), "
            + "\(scale.filesPerDirectory) files of \(humanBytes(scale.minimumFileBytes))–\(humanBytes(scale.maximumFileBytes)) "
            + "each (\(scale.files) files)"
    }

    private static let seedBase: UInt64 = 0x7472_6565_0000_0000

    func run(in directory: String, context: WorkloadContext) throws -> [PhaseSample] {
        var samples: [PhaseSample] = []
        func record(_ sample: PhaseSample) {
            samples.append(sample)
            if let phase = phases.first(where: { $0.name == sample.phase }) { context.progress(phase, sample) }
        }
        let root = directory + "/tree"
        // Directories in creation order (parents first) with their parent's index; files named f<index>.
        var directories: [(path: String, parent: Int)] = [(root, -1)]
        var level = [0]
        for _ in 0 ..< scale.depth {
            var next: [Int] = []
            for parent in level {
                for d in 0 ..< scale.directoriesPerLevel {
                    directories.append((directories[parent].path + "/d\(d)", parent))
                    next.append(directories.count - 1)
                }
            }
            level = next
        }
        var random = SplitMix64(seed: Self.seedBase)
        var files: [(path: String, directory: Int, content: SeededFile)] = []
        for index in 1 ..< directories.count {
            for _ in 0 ..< scale.filesPerDirectory {
                let size = scale.minimumFileBytes + Int(random.next() % UInt64(scale.maximumFileBytes - scale.minimumFileBytes + 1))
                files.append((directories[index].path + "/f\(files.count)",
                              index, SeededFile(seed: SeededFile.seed(Self.seedBase, files.count), size: size)))
            }
        }
        let buffer = ScratchBuffer(byteCount: 64 << 10)

        // create
        sync()
        let create = try timed {
            var next = 0
            for (index, entry) in directories.enumerated() {
                try SystemIO.makeDirectory(entry.path)
                while next < files.count && files[next].directory == index {
                    try files[next].content.write(to: files[next].path, buffer: buffer, fsync: false)
                    next += 1
                }
            }
            let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw BenchError.io("open \(root)", errno) }
            defer { close(fd) }
            try SystemIO.syncFileSystem(of: fd)
        }
        let totalBytes = files.reduce(0) { $0 + $1.content.size }
        record(PhaseSample(phase: "create", seconds: create.seconds, bytes: totalBytes,
                           operations: directories.count - 1 + files.count))
        try context.willVerify(files.map(\.path))
        for file in files { try file.content.verify(file.path, buffer: buffer) }

        // walk
        if context.coldCacheUnavailable == nil { try PageCache.drop() }
        let walk = try timed {
            var entries = 0
            for pass in 0 ..< scale.walkPasses {
                var seenDirectories = 0
                var seenFiles = 0
                var pending = [root]
                while let folder = pending.popLast() {
                    for name in try directoryEntries(folder) {
                        let path = folder + "/" + name
                        let info = try fileStatus(path)
                        entries += 1
                        if name.hasPrefix("d"), info.st_mode & S_IFMT == S_IFDIR {
                            seenDirectories += 1
                            pending.append(path)
                        } else if name.hasPrefix("f"), info.st_mode & S_IFMT == S_IFREG, let index = Int(name.dropFirst()),
                                  index < files.count, files[index].path == path {
                            guard Int(info.st_size) == files[index].content.size else {
                                throw BenchError.wrongResult("\(path): stat says \(info.st_size) bytes, "
                                                             + "\(files[index].content.size) were written (walk pass \(pass + 1))")
                            }
                            seenFiles += 1
                        } else {
                            throw BenchError.wrongResult("\(path): unexpected entry (mode \(String(info.st_mode, radix: 8))) in walk pass \(pass + 1)")
                        }
                    }
                }
                guard seenDirectories == directories.count - 1, seenFiles == files.count else {
                    throw BenchError.wrongResult("walk pass \(pass + 1) of \(root) saw \(seenDirectories) directories and "
                                                 + "\(seenFiles) files; \(directories.count - 1) and \(files.count) were created")
                }
            }
            return entries
        }
        record(PhaseSample(phase: "walk", seconds: walk.seconds, bytes: 0, operations: walk.result))

        // random-read
        let picks = (0 ..< scale.randomReads).map { _ in Int(random.next() % UInt64(files.count)) }
        try context.willVerify(picks.map { files[$0].path })
        let reads = try timed {
            var bytes = 0
            for which in picks {
                bytes += try files[which].content.verify(files[which].path, buffer: buffer)
                var parent = files[which].directory
                while parent >= 0 {
                    let info = try fileStatus(directories[parent].path)
                    guard info.st_mode & S_IFMT == S_IFDIR else {
                        throw BenchError.wrongResult("\(directories[parent].path) is not a directory")
                    }
                    parent = directories[parent].parent
                }
            }
            return bytes
        }
        record(PhaseSample(phase: "random-read", seconds: reads.seconds, bytes: reads.result, operations: picks.count))

        try removeTree(root)
        return samples
    }
}
