import Foundation
import SeededRandom

/// Small pieces the backup, photo, database, git, archive and fio workloads share: sample
/// recording, seeded file content, copying with a digest, tools run with a log.

/// Collects one sample per phase and tells `context.progress` as each completes.
final class PhaseRecorder {
    let phases: [WorkloadPhase]
    let context: WorkloadContext
    private(set) var samples: [PhaseSample] = []

    init(phases: [WorkloadPhase], context: WorkloadContext) {
        self.phases = phases
        self.context = context
    }

    func record(_ name: String, seconds: Double, bytes: Int = 0, operations: Int = 0, measured: Double? = nil) {
        let sample = PhaseSample(phase: name, seconds: seconds, bytes: bytes, operations: operations, measured: measured)
        samples.append(sample)
        if let phase = phases.first(where: { $0.name == name }) { context.progress(phase, sample) }
    }

    /// Before a cold phase: drop the page cache when allowed (untimed); otherwise it runs warm.
    func dropCaches() throws {
        sync()
        if context.coldCacheUnavailable == nil { try PageCache.drop() }
    }
}

enum WorkloadFiles {
    /// `count` bytes of seeded pseudo-random content (incompressible, the same every run).
    static func randomBytes(count: Int, seed: UInt64) -> [UInt8] {
        SplitMix64.bytes(count: count, seed: seed)
    }

    /// Source-code-like text of about `bytes` bytes (compressible, diffable lines).
    static func sourceText(bytes: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        var text = "// generated \(String(seed, radix: 16))\n"
        var line = 0
        while text.utf8.count < bytes {
            let value = random.next()
            switch value % 4 {
            case 0: text += "func f\(line)(x: Int) -> Int { x &+ 0x\(String(value >> 8, radix: 16)) }\n"
            case 1: text += "    let v\(line) = \(value % 100_000) // \(String(random.next(), radix: 36))\n"
            case 2: text += "    if v\(line) > \(value % 977) { return \(line) }\n"
            default: text += "\n"
            }
            line += 1
        }
        return Array(text.utf8)
    }

    /// Creates (or truncates) `path` with `bytes`; fsync when asked. Returns the bytes written.
    @discardableResult
    static func write(_ path: String, _ bytes: [UInt8], fsync wantSync: Bool = false) throws -> Int {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BenchError.io("create \(path)", errno) }
        do {
            try bytes.withUnsafeBytes { try SystemIO.writeAll(fd, $0.baseAddress!, $0.count) }
            if wantSync { guard fsync(fd) == 0 else { throw BenchError.io("fsync \(path)", errno) } }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw BenchError.io("close \(path)", errno) }
        return bytes.count
    }

    /// The whole file (for small files and checks).
    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw BenchError.io("read \(path)", errno == 0 ? ENOENT : errno) }
        return [UInt8](data)
    }

    /// Copies `source` to `destination` in 1 MiB calls (creating or truncating it), feeding the
    /// bytes to `hasher` when given. Returns the bytes copied.
    @discardableResult
    static func copy(_ source: String, to destination: String, hasher: Sha256? = nil, buffer: ScratchBuffer) throws -> Int {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BenchError.io("open \(source)", errno) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw BenchError.io("create \(destination)", errno) }
        var total = 0
        do {
            while true {
                let count = Glibc.read(input, buffer.base, buffer.bytes.count)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw BenchError.io("read \(source)", errno)
                }
                if count == 0 { break }
                hasher?.update(UnsafeRawBufferPointer(start: buffer.base, count: count))
                try SystemIO.writeAll(output, buffer.base, count)
                total += count
            }
        } catch {
            close(output)
            throw error
        }
        guard close(output) == 0 else { throw BenchError.io("close \(destination)", errno) }
        return total
    }

    /// syncfs(2) of the file system holding `directory`: what makes a phase's writes the target's.
    static func syncFileSystem(_ directory: String) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError.io("open \(directory)", errno) }
        defer { close(fd) }
        try SystemIO.syncFileSystem(of: fd)
    }

    /// Throws `wrongResult` naming `path` unless its SHA-256 is `expected`.
    static func checkDigest(_ path: String, _ expected: [UInt8], what: String) throws {
        let actual = try Sha256.file(path)
        guard actual == expected else {
            throw BenchError.wrongResult("\(what): \(path) has SHA-256 \(Sha256.hex(actual)), expected \(Sha256.hex(expected))")
        }
    }

    /// Throws `wrongResult` naming `path` unless its bytes are exactly `expected`.
    static func checkContent(_ path: String, _ expected: [UInt8], what: String) throws {
        let actual = try read(path)
        guard actual == expected else {
            let first = (0 ..< min(actual.count, expected.count)).first { actual[$0] != expected[$0] } ?? min(actual.count, expected.count)
            throw BenchError.wrongResult("\(what): \(path) differs from what was written (\(actual.count) bytes, "
                                         + "expected \(expected.count); first difference at byte \(first))")
        }
    }

    /// Empties `directory` (untimed clean-up), so the workload leaves it as it found it.
    static func removeContents(of directory: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            try FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }
}

/// External tools (git, tar, python3, fio) run to completion with output in a log.
enum WorkloadTool {
    /// Throws `setup` with an install hint when `name` is not in $PATH.
    static func require(_ name: String, install: String) throws {
        guard Command.find(name) != nil else { throw BenchError.setup("\(name) not found in $PATH (\(install))") }
    }

    /// Runs the tool in `directory`, stdout and stderr appended to `log`; throws `wrongResult`
    /// with the log's tail unless it exits 0.
    static func run(_ executable: String, _ arguments: [String], in directory: String, environment: [String: String] = [:],
                    log: String) throws {
        Command.appendLine(log, "$ " + ([executable] + arguments).joined(separator: " "))
        let termination = try ChildProcess.spawn(executable, arguments, environment: environment, directory: directory,
                                                 stdout: .file(log)).0.wait()
        guard termination.succeeded else {
            throw BenchError.wrongResult("\(executable) \(arguments.prefix(3).joined(separator: " ")) failed (\(termination)); log \(log):\n"
                                         + Command.tail(of: log))
        }
    }

    /// Runs the tool and returns its stdout (stderr appended to `log`) and how it ended.
    static func capture(_ executable: String, _ arguments: [String], in directory: String,
                        environment: [String: String] = [:], log: String) throws -> (ChildProcess.Termination, String) {
        Command.appendLine(log, "$ " + ([executable] + arguments).joined(separator: " "))
        let (child, readEnd) = try ChildProcess.spawn(executable, arguments, environment: environment, directory: directory,
                                                      stdout: .pipe, stderr: .file(log))
        guard let readEnd else { throw BenchError.setup("no pipe from \(executable)") }
        let text = Command.readAll(readEnd)
        close(readEnd)
        return (child.wait(), text)
    }
}

/// The middle value of `values` (0 when empty).
func medianOf(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
