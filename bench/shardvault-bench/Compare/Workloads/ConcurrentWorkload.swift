import Foundation
import SeededRandom

/// Four threads at once on one project for a fixed time, as a developer's machine runs them:
/// an editor (small reads of its open files, saves with fsync), a file watcher (readdir + stat
/// of the source directories), a build (reads sources, writes object files) and a terminal
/// (appends to a log, lists the build output, stats files). Reports completed operations per
/// second over all threads and the per-operation latency percentiles.
struct ConcurrentWorkload: Workload {
    struct Scale: Equatable {
        var seconds: Double
        var directories: Int
        var filesPerDirectory: Int
        var minimumFileBytes = 4 << 10
        var maximumFileBytes = 64 << 10
        /// Files the editor has open (its own: the other threads do not read their content).
        var editorFiles: Int
        /// Every n-th editor operation is a save (temp file, fsync, rename); the others are 4 KiB reads.
        var saveEvery = 4
        var objectBytes = 32 << 10
        var logRecordBytes = 64

        var files: Int { directories * filesPerDirectory }

        static func of(_ scale: BenchScale) -> Scale {
            switch scale {
            case .full: return Scale(seconds: 20, directories: 8, filesPerDirectory: 50, editorFiles: 8)
            case .medium: return Scale(seconds: 5, directories: 4, filesPerDirectory: 40, editorFiles: 6)
            case .tiny: return Scale(seconds: 1, directories: 2, filesPerDirectory: 20, editorFiles: 4)
            }
        }
    }

    static let roles = ["editor", "watcher", "build", "terminal"]

    let name = "concurrent"
    let scale: Scale

    init(scale: BenchScale) { self.scale = .of(scale) }
    init(parameters: Scale) { scale = parameters }

    var phases: [WorkloadPhase] {
        let run = "editor, watcher, build and terminal threads for \(ResultTable.format(scale.seconds)) s"
        return [
            WorkloadPhase(name: "ops", title: "4 threads: ops", unit: .operationsPerSecond,
                          method: "\(run); completed operations of all threads / seconds until the last stopped; every read "
                              + "compared, stat sizes checked; afterwards (untimed) saved files, objects and the log read back and compared"),
            WorkloadPhase(name: "p50", title: "4 threads: op p50", unit: .milliseconds,
                          method: "median time of one operation (any thread) in the same run", requires: ["ops"]),
            WorkloadPhase(name: "p99", title: "4 threads: op p99", unit: .milliseconds,
                          method: "99th percentile time of one operation (any thread) in the same run", requires: ["ops"]),
        ]
    }

    var summary: String {
        "\(Self.roles.joined(separator: "/")) threads for \(ResultTable.format(scale.seconds)) s over \(scale.files) source files "
            + "of \(humanBytes(scale.minimumFileBytes))–\(humanBytes(scale.maximumFileBytes))"
    }

    private static let seedBase: UInt64 = 0x636F_6E63_0000_0000

    /// One thread's state; only that thread touches it until it has been joined.
    private final class Role: @unchecked Sendable {
        let index: Int
        var random: SplitMix64
        var latencies = Latencies()
        var failure: Error?
        var sources: [SeededFile]
        var objects: [SeededFile?]
        var logRecords = 0
        init(index: Int, sources: [SeededFile]) {
            self.index = index
            random = SplitMix64(seed: ConcurrentWorkload.seedBase ^ UInt64(index + 1))
            self.sources = sources
            objects = Array(repeating: nil, count: sources.count)
        }
        func below(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }
    }

    func run(in directory: String, context: WorkloadContext) throws -> [PhaseSample] {
        let scale = self.scale
        var random = SplitMix64(seed: Self.seedBase)
        let buffer = ScratchBuffer(byteCount: 1 << 20)
        let folders = (0 ..< scale.directories).map { directory + "/src/pkg\($0)" }
        let objectRoot = directory + "/build"
        let log = directory + "/terminal.log"
        try SystemIO.makeDirectory(directory + "/src")
        try SystemIO.makeDirectory(objectRoot)
        var sourceFiles: [SeededFile] = []
        var sourcePaths: [String] = []
        for (d, folder) in folders.enumerated() {
            try SystemIO.makeDirectory(folder)
            for f in 0 ..< scale.filesPerDirectory {
                let size = scale.minimumFileBytes + Int(random.next() % UInt64(scale.maximumFileBytes - scale.minimumFileBytes + 1))
                let file = SeededFile(seed: SeededFile.seed(Self.seedBase, d * scale.filesPerDirectory + f), size: size)
                sourcePaths.append(folder + "/unit\(f).c")
                try file.write(to: sourcePaths.last!, buffer: buffer, fsync: false)
                sourceFiles.append(file)
            }
        }
        let sources = sourceFiles, paths = sourcePaths
        let editorFiles = (0 ..< scale.editorFiles).map { $0 * sources.count / scale.editorFiles }
        let buildFiles = sources.indices.filter { !editorFiles.contains($0) }
        let objectPaths = sources.indices.map { objectRoot + "/unit\($0).o" }
        sync()

        let roles = Self.roles.indices.map { Role(index: $0, sources: sources) }
        let group = DispatchGroup()
        let start = monotonicNanoseconds()
        let deadline = start + UInt64(scale.seconds * 1e9)
        for role in roles {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                let buffer = ScratchBuffer(byteCount: 1 << 20)
                let page = ScratchBuffer(byteCount: SeededFile.pageBytes)
                var count = 0
                do {
                    while monotonicNanoseconds() < deadline {
                        let begin = monotonicNanoseconds()
                        switch role.index {
                        case 0: // editor
                            let which = editorFiles[role.below(editorFiles.count)]
                            if count % scale.saveEvery == scale.saveEvery - 1 {
                                role.sources[which].rewrite()
                                try role.sources[which].write(to: paths[which] + ".tmp", buffer: buffer, fsync: true)
                                guard rename(paths[which] + ".tmp", paths[which]) == 0 else { throw BenchError.io("rename \(paths[which])", errno) }
                            } else {
                                let file = role.sources[which]
                                let fd = open(paths[which], O_RDONLY | O_CLOEXEC)
                                guard fd >= 0 else { throw BenchError.io("open \(paths[which])", errno) }
                                defer { close(fd) }
                                let offset = role.below(file.size - SeededFile.pageBytes + 1)
                                try file.verifyRange(fd, paths[which], offset: offset, count: SeededFile.pageBytes, buffer: page)
                            }
                        case 1: // watcher
                            let folder = role.below(folders.count)
                            let names = try directoryEntries(folders[folder])
                            var seen = 0
                            for name in names where !name.hasSuffix(".tmp") {
                                let info = try fileStatus(folders[folder] + "/" + name)
                                guard name.hasPrefix("unit"), let f = Int(name.dropFirst(4).dropLast(2)), f < scale.filesPerDirectory,
                                      Int(info.st_size) == sources[folder * scale.filesPerDirectory + f].size else {
                                    throw BenchError.wrongResult("\(folders[folder])/\(name): unexpected entry or size \(info.st_size)")
                                }
                                seen += 1
                            }
                            guard seen == scale.filesPerDirectory else {
                                throw BenchError.wrongResult("\(folders[folder]) lists \(seen) sources; \(scale.filesPerDirectory) were written")
                            }
                        case 2: // build
                            let which = buildFiles[role.below(buildFiles.count)]
                            try role.sources[which].verify(paths[which], buffer: buffer)
                            var object = role.objects[which] ?? SeededFile(seed: SeededFile.seed(Self.seedBase ^ 0x0B, which),
                                                                             size: scale.objectBytes)
                            if role.objects[which] != nil { object.rewrite() }
                            try object.write(to: objectPaths[which], buffer: buffer, fsync: false)
                            role.objects[which] = object
                        default: // terminal
                            switch count % 3 {
                            case 0:
                                let fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
                                guard fd >= 0 else { throw BenchError.io("open \(log)", errno) }
                                defer { close(fd) }
                                Self.logRecord(role.logRecords, into: page.base, bytes: scale.logRecordBytes)
                                try SystemIO.writeAll(fd, page.base, scale.logRecordBytes)
                                role.logRecords += 1
                            case 1:
                                _ = try directoryEntries(objectRoot)
                            default:
                                let which = role.below(sources.count)
                                let info = try fileStatus(paths[which])
                                guard Int(info.st_size) == sources[which].size else {
                                    throw BenchError.wrongResult("\(paths[which]): stat says \(info.st_size) bytes, \(sources[which].size) were written")
                                }
                            }
                        }
                        role.latencies.record(monotonicNanoseconds() - begin)
                        count += 1
                    }
                } catch {
                    role.failure = error
                }
            }
            thread.start()
        }
        group.wait()
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        if let failure = roles.compactMap(\.failure).first { throw failure }

        var all = Latencies()
        for role in roles { all.append(role.latencies) }
        let ops = PhaseSample(phase: "ops", seconds: seconds, bytes: 0, operations: all.count)
        let samples = [ops, all.sample("p50", 0.5), all.sample("p99", 0.99)]
        for sample in samples { context.progress(phases.first { $0.name == sample.phase }!, sample) }

        // Verify: the editor's saved files, the objects the build wrote last, the terminal's log.
        let objects = roles[2].objects.enumerated().compactMap { item in item.element.map { (objectPaths[item.offset], $0) } }
        try context.willVerify(editorFiles.map { paths[$0] } + objects.map(\.0) + [log])
        for which in editorFiles { try roles[0].sources[which].verify(paths[which], buffer: buffer) }
        for (path, object) in objects { try object.verify(path, buffer: buffer) }
        try verifyLog(log, records: roles[3].logRecords, buffer: buffer)

        try removeTree(directory + "/src")
        try removeTree(objectRoot)
        if roles[3].logRecords > 0 { guard unlink(log) == 0 else { throw BenchError.io("unlink \(log)", errno) } }
        return samples
    }

    /// Log record n: "log <n>" padded with its number's bytes, ending in a newline.
    private static func logRecord(_ n: Int, into destination: UnsafeMutableRawPointer, bytes: Int) {
        let text = Array("log \(n) ".utf8)
        for i in 0 ..< bytes - 1 { destination.storeBytes(of: i < text.count ? text[i] : UInt8(97 + (n + i) % 26), toByteOffset: i, as: UInt8.self) }
        destination.storeBytes(of: UInt8(ascii: "\n"), toByteOffset: bytes - 1, as: UInt8.self)
    }

    private func verifyLog(_ path: String, records: Int, buffer: ScratchBuffer) throws {
        guard records > 0 else { return }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError.io("open \(path)", errno) }
        defer { close(fd) }
        let expected = ScratchBuffer(byteCount: scale.logRecordBytes)
        var record = 0
        while true {
            // The buffer holds whole records, so only the last read can end inside one.
            let count = try SeededFile.readSome(fd, buffer, path: path)
            if count == 0 { break }
            guard count % scale.logRecordBytes == 0 else {
                throw BenchError.wrongResult("\(path): length is not a whole number of \(scale.logRecordBytes)-byte records")
            }
            for offset in stride(from: 0, to: count, by: scale.logRecordBytes) {
                Self.logRecord(record, into: expected.base, bytes: scale.logRecordBytes)
                guard memcmp(expected.base, buffer.base + offset, scale.logRecordBytes) == 0 else {
                    throw BenchError.wrongResult("\(path): record \(record) differs from what was appended")
                }
                record += 1
            }
        }
        guard record == records else { throw BenchError.wrongResult("\(path) holds \(record) records; \(records) were appended") }
    }
}
