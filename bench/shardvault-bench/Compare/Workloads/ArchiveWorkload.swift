import Foundation
import SeededRandom

/// Packing and unpacking a tree with tar and gzip: create 50 directories of 20 files, tar czf
/// them, extract the tarball elsewhere, verify every extracted file, delete it all.
struct ArchiveWorkload: Workload {
    struct Scale: Equatable {
        var directories: Int
        var filesPerDirectory: Int
        var minBytes: Int
        var maxBytes: Int

        static func of(_ scale: BenchScale) -> Scale {
            switch scale {
            case .full: return Scale(directories: 50, filesPerDirectory: 20, minBytes: 1 << 10, maxBytes: 64 << 10)
            case .medium: return Scale(directories: 25, filesPerDirectory: 20, minBytes: 1 << 10, maxBytes: 64 << 10)
            case .tiny: return Scale(directories: 5, filesPerDirectory: 4, minBytes: 1 << 10, maxBytes: 16 << 10)
            }
        }

        var files: Int { directories * filesPerDirectory }
    }

    let name = "archive"
    let scale: Scale
    static let seed: UInt64 = 0x4152_4348_4956_45

    init(scale: BenchScale) { self.scale = Scale.of(scale) }

    var phases: [WorkloadPhase] {
        [
            WorkloadPhase(name: "create", title: "create tree", unit: .megabytesPerSecond,
                          method: "write \(scale.directories)×\(scale.filesPerDirectory) files (\(humanBytes(scale.minBytes))–\(humanBytes(scale.maxBytes)); odd files source-like text, even files random), syncfs; checked after extract"),
            WorkloadPhase(name: "tar", title: "tar czf", unit: .seconds,
                          method: "drop_caches, then tar czf tree.tar.gz tree, syncfs; tar tzf must list every file and directory",
                          requires: ["create"]),
            WorkloadPhase(name: "extract", title: "tar xzf", unit: .seconds,
                          method: "drop_caches, then tar xzf into out/, syncfs; every extracted file's SHA-256 compared with the generated content",
                          requires: ["tar"]),
            WorkloadPhase(name: "delete", title: "rm -rf", unit: .seconds,
                          method: "rm -rf tree out tree.tar.gz; the directory must be empty", requires: ["extract"]),
        ]
    }

    var summary: String {
        "\(scale.files) files (\(scale.directories)×\(scale.filesPerDirectory), \(humanBytes(scale.minBytes))–\(humanBytes(scale.maxBytes))), tar czf / xzf"
    }

    private func relative(_ index: Int) -> String {
        String(format: "tree/dir%02d/file%03d.%@", index / scale.filesPerDirectory, index % scale.filesPerDirectory,
               index % 2 == 1 ? "txt" : "bin")
    }

    private static let environment = ["LC_ALL": "C"]

    func run(in directory: String, context: WorkloadContext) throws -> [PhaseSample] {
        try WorkloadTool.require("tar", install: "apt install tar gzip")
        try WorkloadTool.require("gzip", install: "apt install gzip")
        let recorder = PhaseRecorder(phases: phases, context: context)
        let log = context.logDirectory + "/archive.log"
        var random = SplitMix64(seed: Self.seed)
        var digests: [[UInt8]] = []

        try SystemIO.makeDirectory(directory + "/tree")
        for dir in 0 ..< scale.directories { try SystemIO.makeDirectory(directory + String(format: "/tree/dir%02d", dir)) }
        var seconds = 0.0
        var total = 0
        for index in 0 ..< scale.files {
            let size = scale.minBytes + Int(random.next() % UInt64(scale.maxBytes - scale.minBytes + 1))
            let seed = Self.seed &+ UInt64(index)
            let content = index % 2 == 1 ? WorkloadFiles.sourceText(bytes: size, seed: seed) : WorkloadFiles.randomBytes(count: size, seed: seed)
            digests.append(Sha256.hash(content))
            seconds += try timed { try WorkloadFiles.write(directory + "/" + relative(index), content) }.seconds
            total += content.count
        }
        seconds += try timed { try WorkloadFiles.syncFileSystem(directory) }.seconds
        recorder.record("create", seconds: seconds, bytes: total, operations: scale.files)

        try recorder.dropCaches()
        let tar = try timed {
            try WorkloadTool.run("tar", ["czf", "tree.tar.gz", "tree"], in: directory, environment: Self.environment, log: log)
            try WorkloadFiles.syncFileSystem(directory)
        }
        let (listed, listing) = try WorkloadTool.capture("tar", ["tzf", "tree.tar.gz"], in: directory, environment: Self.environment, log: log)
        let entries = listing.split(separator: "\n").count
        guard listed.succeeded, entries == scale.files + scale.directories + 1 else {
            throw BenchError.wrongResult("tar tzf \(directory)/tree.tar.gz (\(listed)) listed \(entries) entries; "
                                         + "\(scale.files) files and \(scale.directories + 1) directories were archived")
        }
        recorder.record("tar", seconds: tar.seconds, bytes: total, operations: scale.files)

        try SystemIO.makeDirectory(directory + "/out")
        try recorder.dropCaches()
        let extract = try timed {
            try WorkloadTool.run("tar", ["--no-same-owner", "-xzf", "../tree.tar.gz"], in: directory + "/out",
                                 environment: Self.environment, log: log)
            try WorkloadFiles.syncFileSystem(directory)
        }
        let extracted = (0 ..< scale.files).map { directory + "/out/" + relative($0) }
        try context.willVerify(extracted)
        for (index, path) in extracted.enumerated() { try WorkloadFiles.checkDigest(path, digests[index], what: "tar xzf") }
        recorder.record("extract", seconds: extract.seconds, bytes: total, operations: scale.files)

        let delete = try timed {
            try WorkloadTool.run("rm", ["-rf", "tree", "out", "tree.tar.gz"], in: directory, log: log)
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: directory)
        guard left.isEmpty else { throw BenchError.wrongResult("rm -rf left \(left.prefix(5)) in \(directory)") }
        recorder.record("delete", seconds: delete.seconds, operations: 2 * scale.files + 2 * scale.directories + 3)
        return recorder.samples
    }
}
