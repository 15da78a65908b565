import Foundation
import SeededRandom

/// The first minutes after mounting, when nothing is cached: a tree is made and the target is
/// remounted (both untimed), then: list every directory, stat every entry, read a tenth of the
/// files, and walk the whole tree with stat — each timed on its own, in that order, and reported
/// in milliseconds (the phase's duration: at small scales whole seconds show nothing).
struct ColdStartWorkload: Workload {
    struct Scale: Equatable {
        var topDirectories: Int
        var subdirectoriesEach: Int
        var filesPerDirectory: Int
        var minimumFileBytes = 1 << 10
        var maximumFileBytes = 64 << 10
        /// Every n-th file (in a seeded order) is read: 10 → 10% of the files.
        var readOneIn = 10

        var leafDirectories: Int { topDirectories * subdirectoriesEach }
        var directories: Int { topDirectories + leafDirectories }
        var files: Int { leafDirectories * filesPerDirectory }
        var filesRead: Int { (files + readOneIn - 1) / readOneIn }

        static func of(_ scale: BenchScale) -> Scale {
            switch scale {
            case .full: return Scale(topDirectories: 10, subdirectoriesEach: 10, filesPerDirectory: 100)
            case .medium: return Scale(topDirectories: 6, subdirectoriesEach: 5, filesPerDirectory: 100)
            case .tiny: return Scale(topDirectories: 2, subdirectoriesEach: 5, filesPerDirectory: 20)
            }
        }
    }

    let name = "coldstart"
    let scale: Scale

    init(scale: BenchScale) { self.scale = .of(scale) }
    init(parameters: Scale) { scale = parameters }

    var phases: [WorkloadPhase] {
        [
            WorkloadPhase(name: "readdir", title: "cold readdir all", unit: .milliseconds,
                          method: "tree written and synced, then the target remounted (native: caches dropped), untimed; "
                              + "opendir/readdir of all \(scale.directories + 1) directories; every listing's names checked"),
            WorkloadPhase(name: "stat", title: "stat all", unit: .milliseconds,
                          method: "lstat of all \(scale.files + scale.directories) entries by path; types and file sizes checked",
                          requires: ["readdir"]),
            WorkloadPhase(name: "read", title: "read 10%", unit: .milliseconds,
                          method: "\(scale.filesRead) files (every \(scale.readOneIn)th in a seeded order) read in full and compared",
                          requires: ["readdir"]),
            WorkloadPhase(name: "walk", title: "walk+stat", unit: .milliseconds,
                          method: "recursive readdir + lstat of every entry; names, types, counts and file sizes checked",
                          requires: ["readdir"]),
        ]
    }

    var summary: String {
        "\(scale.files) files of \(humanBytes(scale.minimumFileBytes))–\(humanBytes(scale.maximumFileBytes)) in "
            + "\(scale.directories) directories, read cold after a remount"
    }

    private static let seedBase: UInt64 = 0x636F_6C64_0000_0000

    func run(in directory: String, context: WorkloadContext) throws -> [PhaseSample] {
        var samples: [PhaseSample] = []
        func record(_ sample: PhaseSample) {
            samples.append(sample)
            if let phase = phases.first(where: { $0.name == sample.phase }) { context.progress(phase, sample) }
        }
        let root = directory + "/project"
        // Every directory with the names it must list, and every file with its content.
        var listings: [(path: String, names: Set<String>)] = [(root, Set((0 ..< scale.topDirectories).map { "a\($0)" }))]
        var files: [(path: String, content: SeededFile)] = []
        var expected: [String: Int] = [:] // path → size, -1 for directories
        var random = SplitMix64(seed: Self.seedBase)
        let buffer = ScratchBuffer(byteCount: 1 << 20)
        try SystemIO.makeDirectory(root)
        for a in 0 ..< scale.topDirectories {
            let top = root + "/a\(a)"
            try SystemIO.makeDirectory(top)
            expected[top] = -1
            listings.append((top, Set((0 ..< scale.subdirectoriesEach).map { "b\($0)" })))
            for b in 0 ..< scale.subdirectoriesEach {
                let leaf = top + "/b\(b)"
                try SystemIO.makeDirectory(leaf)
                expected[leaf] = -1
                listings.append((leaf, Set((0 ..< scale.filesPerDirectory).map { "file\($0).txt" })))
                for f in 0 ..< scale.filesPerDirectory {
                    let size = scale.minimumFileBytes + Int(random.next() % UInt64(scale.maximumFileBytes - scale.minimumFileBytes + 1))
                    let file = (leaf + "/file\(f).txt", SeededFile(seed: SeededFile.seed(Self.seedBase, files.count), size: size))
                    try file.1.write(to: file.0, buffer: buffer, fsync: false)
                    files.append(file)
                    expected[file.0] = size
                }
            }
        }
        let order = Array(files.indices).shuffled(using: &random)
        let reads = stride(from: 0, to: order.count, by: scale.readOneIn).map { order[$0] }
        let statOrder = expected.sorted { $0.key < $1.key }
        sync()
        try context.remount()

        let listing = try timed {
            var entries = 0
            for (path, names) in listings {
                let listed = try directoryEntries(path)
                guard Set(listed) == names, listed.count == names.count else {
                    throw BenchError.wrongResult("\(path) lists \(listed.count) entries (\(Set(listed).subtracting(names).count) unexpected, "
                                                 + "\(names.subtracting(listed).count) missing); \(names.count) were created")
                }
                entries += listed.count
            }
            return entries
        }
        record(PhaseSample(phase: "readdir", seconds: listing.seconds, bytes: 0, operations: listing.result))

        let statting = try timed {
            for (path, size) in statOrder { try check(path, try fileStatus(path), size) }
        }
        record(PhaseSample(phase: "stat", seconds: statting.seconds, bytes: 0, operations: expected.count))

        try context.willVerify(reads.map { files[$0].path })
        let reading = try timed {
            try reads.reduce(0) { $0 + (try files[$1].content.verify(files[$1].path, buffer: buffer)) }
        }
        record(PhaseSample(phase: "read", seconds: reading.seconds, bytes: reading.result, operations: reads.count))

        let walking = try timed {
            var seen = 0
            var pending = [root]
            while let folder = pending.popLast() {
                for name in try directoryEntries(folder) {
                    let path = folder + "/" + name
                    guard let size = expected[path] else { throw BenchError.wrongResult("\(path): unexpected entry") }
                    let info = try fileStatus(path)
                    try check(path, info, size)
                    if size < 0 { pending.append(path) }
                    seen += 1
                }
            }
            guard seen == expected.count else {
                throw BenchError.wrongResult("walk of \(root) saw \(seen) entries; \(expected.count) were created")
            }
            return seen
        }
        record(PhaseSample(phase: "walk", seconds: walking.seconds, bytes: 0, operations: walking.result))

        try removeTree(root)
        return samples
    }

    /// A directory where `size` is -1, otherwise a regular file of `size` bytes.
    private func check(_ path: String, _ info: stat, _ size: Int) throws {
        let isDirectory = info.st_mode & S_IFMT == S_IFDIR
        guard size < 0 ? isDirectory : (info.st_mode & S_IFMT == S_IFREG && Int(info.st_size) == size) else {
            throw BenchError.wrongResult("\(path): stat says mode \(String(info.st_mode, radix: 8)), \(info.st_size) bytes; "
                                         + (size < 0 ? "a directory" : "a file of \(size) bytes") + " was created")
        }
    }
}
