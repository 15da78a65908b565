import Foundation
import SeededRandom

/// A file-level backup tool's cycle (rsync/restic-like): a source tree is copied to backup/
/// with a SHA-256 manifest; 5 % of the files change; changes are found by size+mtime first and
/// confirmed by SHA-256; the changed files are copied again; then everything is restored to
/// restore/ and compared byte for byte with the source.
struct BackupWorkload: Workload {
    struct Scale: Equatable {
        var directories: Int
        var filesPerDirectory: Int
        var minBytes: Int
        var maxBytes: Int
        /// Percentage of files modified between the full and the incremental backup.
        var modifiedPercent: Int

        static func of(_ scale: BenchScale) -> Scale {
            switch scale {
            case .full: return Scale(directories: 20, filesPerDirectory: 50, minBytes: 4 << 10, maxBytes: 512 << 10, modifiedPercent: 5)
            case .medium: return Scale(directories: 10, filesPerDirectory: 25, minBytes: 4 << 10, maxBytes: 256 << 10, modifiedPercent: 5)
            case .tiny: return Scale(directories: 4, filesPerDirectory: 10, minBytes: 4 << 10, maxBytes: 64 << 10, modifiedPercent: 5)
            }
        }

        var files: Int { directories * filesPerDirectory }
        /// At least one file changes at every scale.
        var modifiedFiles: Int { max(1, files * modifiedPercent / 100) }
    }

    let name = "backup"
    let scale: Scale
    static let seed: UInt64 = 0x4241_434B_5550

    init(scale: BenchScale) { self.scale = Scale.of(scale) }

    var phases: [WorkloadPhase] {
        [
            WorkloadPhase(name: "create", title: "create source", unit: .megabytesPerSecond,
                          method: "write \(scale.files) files (\(humanBytes(scale.minBytes))–\(humanBytes(scale.maxBytes)), seeded random) in \(scale.directories) dirs, then syncfs; checked by the full backup's digests"),
            WorkloadPhase(name: "full", title: "full backup", unit: .megabytesPerSecond,
                          method: "copy every file to backup/ in 1 MiB calls with SHA-256 of each (the manifest), syncfs; digests compared with the generated content, backup copies re-hashed", requires: ["create"]),
            WorkloadPhase(name: "modify", title: "modify 5%", unit: .operationsPerSecond,
                          method: "\(scale.modifiedFiles) files: overwrite 4 KiB in the middle (half also append 4 KiB); touch as many others without changing them", requires: ["full"]),
            WorkloadPhase(name: "detect", title: "detect changes", unit: .seconds,
                          method: "stat every source file against the manifest (size+mtime), SHA-256 of the candidates; changed set must equal the modified set", requires: ["modify"]),
            WorkloadPhase(name: "incremental", title: "incremental backup", unit: .megabytesPerSecond,
                          method: "copy the changed files over their backups with SHA-256, syncfs; digests and re-hashed copies checked", requires: ["detect"]),
            WorkloadPhase(name: "restore", title: "restore all", unit: .megabytesPerSecond,
                          method: "drop_caches, copy backup/ to restore/ (1 MiB calls), syncfs; every restored file compared byte for byte with the source", requires: ["incremental"]),
        ]
    }

    var summary: String {
        "\(scale.files) files (\(scale.directories)×\(scale.filesPerDirectory), \(humanBytes(scale.minBytes))–\(humanBytes(scale.maxBytes))), \(scale.modifiedPercent)% modified"
    }

    private struct Entry {
        var path: String
        var size: Int
        var mtime: timespec
        var digest: [UInt8]
    }

    /// Relative path of file `index`.
    private func relative(_ index: Int) -> String {
        String(format: "d%02d/f%03d.bin", index / scale.filesPerDirectory, index % scale.filesPerDirectory)
    }

    func run(in directory: String, context: WorkloadContext) throws -> [PhaseSample] {
        let recorder = PhaseRecorder(phases: phases, context: context)
        let buffer = ScratchBuffer(byteCount: 1 << 20)
        let roots = ["src", "backup", "restore"].map { directory + "/" + $0 }
        for root in roots {
            try SystemIO.makeDirectory(root)
            for dir in 0 ..< scale.directories { try SystemIO.makeDirectory(root + String(format: "/d%02d", dir)) }
        }
        let (source, backup, restore) = (roots[0], roots[1], roots[2])
        var random = SplitMix64(seed: Self.seed)
        var expected: [[UInt8]] = []   // SHA-256 of each source file's current content
        var sizes: [Int] = []

        // create: only the writes and the final syncfs are timed; generating content is not.
        var seconds = 0.0
        var total = 0
        for index in 0 ..< scale.files {
            let size = scale.minBytes + Int(random.next() % UInt64(scale.maxBytes - scale.minBytes + 1))
            let content = WorkloadFiles.randomBytes(count: size, seed: Self.seed &+ UInt64(index))
            expected.append(Sha256.hash(content))
            sizes.append(size)
            seconds += try timed { try WorkloadFiles.write(source + "/" + relative(index), content) }.seconds
            total += size
        }
        seconds += try timed { try WorkloadFiles.syncFileSystem(directory) }.seconds
        recorder.record("create", seconds: seconds, bytes: total, operations: scale.files)

        // full backup with a manifest of size, mtime and SHA-256 (stat before reading, as tools do).
        var manifest: [Entry] = []
        let full = try timed {
            for index in 0 ..< scale.files {
                let path = relative(index)
                var info = stat()
                guard stat(source + "/" + path, &info) == 0 else { throw BenchError.io("stat \(path)", errno) }
                let hasher = Sha256()
                let size = try WorkloadFiles.copy(source + "/" + path, to: backup + "/" + path, hasher: hasher, buffer: buffer)
                manifest.append(Entry(path: path, size: size, mtime: info.st_mtim, digest: hasher.finish()))
            }
            try WorkloadFiles.syncFileSystem(directory)
        }
        for (index, entry) in manifest.enumerated() where entry.digest != expected[index] || entry.size != sizes[index] {
            throw BenchError.wrongResult("full backup read \(source)/\(entry.path) as \(entry.size) bytes with SHA-256 "
                                         + "\(Sha256.hex(entry.digest)); it was written as \(sizes[index]) bytes, \(Sha256.hex(expected[index]))")
        }
        try context.willVerify(manifest.map { backup + "/" + $0.path })
        for (index, entry) in manifest.enumerated() { try WorkloadFiles.checkDigest(backup + "/" + entry.path, expected[index], what: "full backup") }
        recorder.record("full", seconds: full.seconds, bytes: total, operations: scale.files)

        // modify: mtimes must move past the manifest's even on a coarse clock, so wait a tick (untimed).
        usleep(20_000)
        var picks = Array(0 ..< scale.files)
        picks.shuffle(using: &random)
        let modified = Set(picks.prefix(scale.modifiedFiles))
        let touched = Set(picks.dropFirst(scale.modifiedFiles).prefix(scale.modifiedFiles))
        let patch = WorkloadFiles.randomBytes(count: 4096, seed: Self.seed ^ 0xFFFF)
        var newContent: [Int: [UInt8]] = [:]
        for index in modified.sorted() {
            var content = WorkloadFiles.randomBytes(count: sizes[index], seed: Self.seed &+ UInt64(index))
            let offset = max(0, sizes[index] / 2 - 2048)
            content.replaceSubrange(offset ..< min(sizes[index], offset + 4096), with: patch.prefix(min(4096, sizes[index] - offset)))
            if index % 2 == 0 { content += patch }
            newContent[index] = content
        }
        let modify = try timed {
            for index in modified.sorted() {
                let content = newContent[index]!
                let offset = max(0, sizes[index] / 2 - 2048)
                let fd = open(source + "/" + relative(index), O_WRONLY | O_CLOEXEC)
                guard fd >= 0 else { throw BenchError.io("open \(relative(index))", errno) }
                defer { close(fd) }
                let tail = Array(content[offset...])
                guard pwrite(fd, tail, tail.count, off_t(offset)) == tail.count else { throw BenchError.io("pwrite \(relative(index))", errno) }
            }
            for index in touched.sorted() {
                guard utimensat(AT_FDCWD, source + "/" + relative(index), nil, 0) == 0 else { throw BenchError.io("touch \(relative(index))", errno) }
            }
        }
        for (index, content) in newContent {
            expected[index] = Sha256.hash(content)
            sizes[index] = content.count
        }
        recorder.record("modify", seconds: modify.seconds, operations: modified.count + touched.count)

        // detect: size+mtime, then SHA-256 of the candidates.
        let detect = try timed { () -> (candidates: Int, changed: [Int: [UInt8]]) in
            var candidates = 0
            var changed: [Int: [UInt8]] = [:]
            for (index, entry) in manifest.enumerated() {
                var info = stat()
                guard stat(source + "/" + entry.path, &info) == 0 else { throw BenchError.io("stat \(entry.path)", errno) }
                guard Int(info.st_size) != entry.size || info.st_mtim.tv_sec != entry.mtime.tv_sec
                        || info.st_mtim.tv_nsec != entry.mtime.tv_nsec else { continue }
                candidates += 1
                let digest = try Sha256.file(source + "/" + entry.path)
                if digest != entry.digest { changed[index] = digest }
            }
            return (candidates, changed)
        }
        let changed = detect.result.changed
        guard Set(changed.keys) == modified else {
            let missed = modified.subtracting(changed.keys).sorted().map(relative)
            let extra = Set(changed.keys).subtracting(modified).sorted().map(relative)
            throw BenchError.wrongResult("change detection found \(changed.count) changed files, \(modified.count) were modified; "
                                         + "missed \(missed.prefix(5)), unexpected \(extra.prefix(5))")
        }
        guard detect.result.candidates == modified.count + touched.count else {
            throw BenchError.wrongResult("size+mtime flagged \(detect.result.candidates) files; \(modified.count) modified + \(touched.count) touched")
        }
        for (index, digest) in changed where digest != expected[index] {
            throw BenchError.wrongResult("change detection hashed \(source)/\(relative(index)) as \(Sha256.hex(digest)); expected \(Sha256.hex(expected[index]))")
        }
        recorder.record("detect", seconds: detect.seconds, operations: scale.files)

        // incremental: copy the changed files over their backups.
        let changedIndices = changed.keys.sorted()
        var copiedBytes = 0
        let incremental = try timed { () -> [Int: [UInt8]] in
            var digests: [Int: [UInt8]] = [:]
            for index in changedIndices {
                let hasher = Sha256()
                copiedBytes += try WorkloadFiles.copy(source + "/" + relative(index), to: backup + "/" + relative(index), hasher: hasher, buffer: buffer)
                digests[index] = hasher.finish()
            }
            try WorkloadFiles.syncFileSystem(directory)
            return digests
        }
        for (index, digest) in incremental.result where digest != expected[index] {
            throw BenchError.wrongResult("incremental backup read \(source)/\(relative(index)) as \(Sha256.hex(digest)); expected \(Sha256.hex(expected[index]))")
        }
        try context.willVerify(changedIndices.map { backup + "/" + relative($0) })
        for index in changedIndices { try WorkloadFiles.checkDigest(backup + "/" + relative(index), expected[index], what: "incremental backup") }
        recorder.record("incremental", seconds: incremental.seconds, bytes: copiedBytes, operations: changedIndices.count)

        // restore everything, cold, then compare byte for byte with the source.
        try recorder.dropCaches()
        let restored = try timed { () -> Int in
            var bytes = 0
            for index in 0 ..< scale.files {
                bytes += try WorkloadFiles.copy(backup + "/" + relative(index), to: restore + "/" + relative(index), buffer: buffer)
            }
            try WorkloadFiles.syncFileSystem(directory)
            return bytes
        }
        try context.willVerify((0 ..< scale.files).map { restore + "/" + relative($0) })
        for index in 0 ..< scale.files {
            let original = try WorkloadFiles.read(source + "/" + relative(index))
            guard Sha256.hash(original) == expected[index] else {
                throw BenchError.wrongResult("source \(source)/\(relative(index)) no longer holds what was written")
            }
            try WorkloadFiles.checkContent(restore + "/" + relative(index), original, what: "restore")
        }
        recorder.record("restore", seconds: restored.seconds, bytes: restored.result, operations: scale.files)

        try WorkloadFiles.removeContents(of: directory)
        return recorder.samples
    }
}
