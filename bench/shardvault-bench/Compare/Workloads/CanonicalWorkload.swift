import Foundation

/// gocryptfs's "canonical" benchmark (tests/canonical-benchmarks.bash: WRITE, READ, UNTAR, MD5,
/// LS, RM), the yardstick the encrypted-filesystem peers publish numbers for, with three
/// changes: the stream file is written with fsync and read back cold; the tarball is an
/// uncompressed cut of the linux-source-6.1 tree (`KernelSubset`) instead of linux-3.0.tar.gz,
/// so untar measures the target rather than gzip; and ls -lR runs before md5sum -c.
///
/// Between phases the bench runs sync(2) untimed, so no phase pays for an earlier phase's
/// writeback. Tools run with LC_ALL=C. Cold reads drop the page cache as gocryptfs's benchmark
/// does (`sync; echo 3 > /proc/sys/vm/drop_caches`) without remounting: a daemon's own caches
/// (ShardVault's chunk cache, CryFS's block cache) survive, as they would for a user.
struct CanonicalWorkload: Workload {
    let name = "canonical"
    let streamBytes: Int
    /// nil when no tree phase is selected.
    let subset: KernelSubset?
    let phases: [WorkloadPhase]

    static func allPhases(streamBytes: Int) -> [WorkloadPhase] {
        let size = humanBytes(streamBytes)
        return [
            WorkloadPhase(name: "write", title: "write \(size)+fsync", unit: .megabytesPerSecond,
                          method: "create, \(size) in 1 MiB write(2) calls, fsync, close; size checked"),
            WorkloadPhase(name: "read", title: "read \(size) cold", unit: .megabytesPerSecond,
                          method: "drop_caches (untimed), then open and read in 1 MiB calls; every block compared", requires: ["write"]),
            WorkloadPhase(name: "untar", title: "untar", unit: .seconds,
                          method: "tar --no-same-owner --no-same-permissions -xf (tarball and manifest in the page cache, untimed)"),
            WorkloadPhase(name: "ls", title: "ls -lR", unit: .seconds,
                          method: "ls -lR of the tree into a pipe; listed files, directories and symlinks counted (no -a: dot entries are not listed)", requires: ["untar"]),
            WorkloadPhase(name: "md5", title: "cat all (md5sum -c)", unit: .seconds,
                          method: "md5sum --quiet -c of every file (manifest made when the subset was built); must exit 0",
                          requires: ["untar"]),
            WorkloadPhase(name: "rm", title: "rm -rf", unit: .seconds,
                          method: "rm -rf of the tree; must exit 0 and leave nothing", requires: ["untar"]),
        ]
    }

    static let treePhases: Set<String> = ["untar", "ls", "md5", "rm"]

    var summary: String {
        var parts: [String] = []
        if phases.contains(where: { $0.name == "write" }) { parts.append("stream file \(humanBytes(streamBytes)) in 1 MiB calls") }
        if let subset { parts.append("kernel subset " + subset.summary) }
        return parts.joined(separator: "; ")
    }

    private static let toolEnvironment = ["LC_ALL": "C"]

    func run(in directory: String, context: WorkloadContext) throws -> [PhaseSample] {
        var samples: [PhaseSample] = []
        func record(_ sample: PhaseSample) {
            samples.append(sample)
            if let phase = phases.first(where: { $0.name == sample.phase }) { context.progress(phase, sample) }
        }
        let selected = Set(phases.map(\.name))
        let stream = StreamFile(path: directory + "/stream.bin", bytes: streamBytes)

        if selected.contains("write") {
            sync()
            record(PhaseSample(phase: "write", seconds: try stream.write(), bytes: streamBytes, operations: stream.blocks))
            if selected.contains("read") {
                try context.willVerify([stream.path])
                if context.coldCacheUnavailable == nil { try PageCache.drop() }
                record(PhaseSample(phase: "read", seconds: try stream.read(), bytes: streamBytes, operations: stream.blocks))
            }
            guard unlink(stream.path) == 0 else { throw BenchError.io("unlink \(stream.path)", errno) }
        }
        guard let subset, !selected.isDisjoint(with: Self.treePhases) else { return samples }
        let tree = directory + "/" + subset.topDirectory
        let entries = subset.files + subset.directories + subset.symlinks

        // untar (always run when a tree phase is selected: the others work on its tree)
        try prime(subset.tarPath)
        try prime(subset.manifestPath)
        sync()
        let untar = try timed { try tool("tar", ["--no-same-owner", "--no-same-permissions", "-xf", subset.tarPath],
                                         in: directory, log: context.logDirectory + "/untar.log") }
        try expect(untar.result, "tar -xf", log: context.logDirectory + "/untar.log")
        record(PhaseSample(phase: "untar", seconds: untar.seconds, bytes: subset.fileBytes, operations: entries))

        if selected.contains("ls") {
            sync()
            let listing = try timed { try listRecursively(subset.topDirectory, in: directory) }
            let counts = listing.result
            guard counts.files == subset.listedFiles, counts.directories == subset.listedDirectories,
                  counts.symlinks == subset.listedSymlinks, counts.others == 0 else {
                throw BenchError.wrongResult("ls -lR listed \(counts.files) files, \(counts.directories) directories, "
                                             + "\(counts.symlinks) symlinks, \(counts.others) others; the tarball has "
                                             + "\(subset.listedFiles), \(subset.listedDirectories), \(subset.listedSymlinks) visible")
            }
            record(PhaseSample(phase: "ls", seconds: listing.seconds, bytes: 0,
                               operations: counts.files + counts.directories + counts.symlinks))
        }
        if selected.contains("md5") {
            sync()
            let log = context.logDirectory + "/md5sum.log"
            if !selected.contains("read") { try context.willVerify(try subset.manifestFiles(in: directory)) }
            let check = try timed { try tool("md5sum", ["--quiet", "-c", subset.manifestPath], in: directory, log: log) }
            try expect(check.result, "md5sum -c (content differs from the tarball)", log: log)
            record(PhaseSample(phase: "md5", seconds: check.seconds, bytes: subset.fileBytes, operations: subset.files))
        }
        // rm also runs when not selected, so the directory is left empty.
        sync()
        let log = context.logDirectory + "/rm.log"
        let removal = try timed { try tool("rm", ["-rf", subset.topDirectory], in: directory, log: log) }
        try expect(removal.result, "rm -rf", log: log)
        var info = stat()
        guard lstat(tree, &info) != 0 && errno == ENOENT else {
            throw BenchError.wrongResult("\(tree) still exists after rm -rf")
        }
        if selected.contains("rm") {
            record(PhaseSample(phase: "rm", seconds: removal.seconds, bytes: 0, operations: entries))
        }
        return samples
    }

    /// Runs a tool to completion in `directory`, output appended to `log`.
    private func tool(_ executable: String, _ arguments: [String], in directory: String,
                      log: String) throws -> ChildProcess.Termination {
        try ChildProcess.spawn(executable, arguments, environment: Self.toolEnvironment, directory: directory,
                               stdout: .file(log)).0.wait()
    }

    private func expect(_ termination: ChildProcess.Termination, _ what: String, log: String) throws {
        guard termination.succeeded else {
            throw BenchError.wrongResult("\(what) failed (\(termination)); log \(log):\n" + Command.tail(of: log))
        }
    }

    /// `ls -lR top` with its output read through a pipe and counted as it arrives.
    private func listRecursively(_ top: String, in directory: String) throws -> ListingCounter {
        let (child, readEnd) = try ChildProcess.spawn("ls", ["-lR", top], environment: Self.toolEnvironment,
                                                      directory: directory, stdout: .pipe, stderr: .null)
        guard let readEnd else { throw BenchError.setup("no pipe from ls") }
        defer { close(readEnd) }
        var counter = ListingCounter()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = read(readEnd, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            counter.consume(chunk[0 ..< count])
        }
        let termination = child.wait()
        guard termination.succeeded else { throw BenchError.wrongResult("ls -lR failed (\(termination))") }
        return counter
    }

    /// Reads a file once so the next phase finds it in the page cache (the cold read dropped it).
    private func prime(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError.io("open \(path)", errno) }
        defer { close(fd) }
        let buffer = ScratchBuffer(byteCount: 1 << 20)
        while read(fd, buffer.base, 1 << 20) > 0 {}
    }
}

/// Counts the entries of `ls -l` output by the type letter of each line whose first ten
/// characters are a mode string ("drwxr-xr-x"), so directory headers ("linux-…/fs:"), "total"
/// lines and blank lines are not counted.
struct ListingCounter {
    var files = 0
    var directories = 0
    var symlinks = 0
    var others = 0
    private var head: [UInt8] = []

    mutating func consume(_ bytes: ArraySlice<UInt8>) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                finishLine()
                continue
            }
            if head.count < 10 { head.append(byte) }
        }
    }

    private mutating func finishLine() {
        defer { head.removeAll(keepingCapacity: true) }
        guard head.count == 10, head[1 ..< 10].allSatisfy({ Self.modeLetters.contains($0) }) else { return }
        switch head[0] {
        case UInt8(ascii: "-"): files += 1
        case UInt8(ascii: "d"): directories += 1
        case UInt8(ascii: "l"): symlinks += 1
        default: others += 1
        }
    }

    private static let modeLetters = Set("-rwxsStT".utf8)
}
