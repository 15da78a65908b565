import Foundation

/// How a phase's value reads: a throughput or a rate (higher is better), a duration or a
/// latency (lower is better).
enum PhaseUnit: String, Codable {
    case seconds = "s"
    case megabytesPerSecond = "MB/s"
    /// Completed operations per second (`PhaseSample.operations` / `seconds`).
    case operationsPerSecond = "ops/s"
    /// A latency: the sample's `measured` value (a percentile of per-operation times).
    case milliseconds = "ms"

    var higherIsBetter: Bool { self == .megabytesPerSecond || self == .operationsPerSecond }
}

/// One timed step of a workload ("untar"), the same on every target.
struct WorkloadPhase: Codable, Equatable {
    /// Short name used on the command line (`--phases`) and in result names.
    var name: String
    /// Heading in tables ("untar", "ls -lR").
    var title: String
    var unit: PhaseUnit
    /// Exactly what is timed, and how correctness is checked afterwards.
    var method: String
    /// Phases whose results this one needs (read needs the written file); they run with it.
    var requires: [String] = []
}

/// One phase on one target in one iteration.
struct PhaseSample: Codable {
    var phase: String
    var seconds: Double
    /// Payload bytes moved (stream phases) or file bytes of the tree (tree phases).
    var bytes: Int
    /// Files written/read, entries listed, files checked or removed.
    var operations: Int
    /// The value itself when it is not derived from the counts (latency percentiles, in the
    /// phase's unit).
    var measured: Double? = nil

    /// The sample in its phase's unit.
    func value(in unit: PhaseUnit) -> Double {
        if let measured { return measured }
        switch unit {
        case .seconds: return seconds
        case .megabytesPerSecond: return Double(bytes) / seconds / 1e6
        case .operationsPerSecond: return Double(operations) / seconds
        case .milliseconds: return seconds * 1e3
        }
    }
}

/// What a workload may rely on while it runs on one target.
struct WorkloadContext {
    /// nil when the page cache can be dropped for cold phases; otherwise why not (they run warm).
    var coldCacheUnavailable: String?
    /// A directory on the scratch disk (not the target) for tool output and logs.
    var logDirectory: String
    /// Told each phase as it completes: progress lines on the terminal.
    var progress: (WorkloadPhase, PhaseSample) -> Void
    /// Unmounts and mounts the target again (plain directories: drops the page cache), so the
    /// next phase starts with every cache cold — the daemon's as well as the kernel's.
    var remount: () throws -> Void = {}
    /// Set by the hidden `--inject-corruption` flag (the smoke test): `willVerify` then damages
    /// one file the workload wrote, to prove its verification fails the run.
    var injectCorruption = false

    /// Every workload calls this with the files it is about to verify, right before it checks
    /// them. Normally it does nothing; with `injectCorruption` it flips one byte in the middle of
    /// the first non-empty file, through the target, so a verification that works must fail.
    func willVerify(_ files: [String]) throws {
        guard injectCorruption else { return }
        for path in files {
            let fd = open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw BenchError.io("open \(path) to corrupt it", errno) }
            defer { close(fd) }
            let size = lseek(fd, 0, SEEK_END)
            guard size > 0 else { continue }
            var byte: UInt8 = 0
            guard pread(fd, &byte, 1, size / 2) == 1 else { throw BenchError.io("read \(path) to corrupt it", errno) }
            byte ^= 0x5A
            guard pwrite(fd, &byte, 1, size / 2) == 1 else { throw BenchError.io("corrupt \(path)", errno) }
            return
        }
        throw BenchError.setup("--inject-corruption: none of the \(files.count) files to verify has a byte to corrupt")
    }
}

/// A sequence of timed phases run in an empty directory of a target. Every phase checks its
/// result (content, counts) and throws `BenchError.wrongResult` when it is wrong, so a target
/// that is fast because it is wrong never gets a number.
protocol Workload {
    /// Name in reports ("canonical").
    var name: String { get }
    /// The phases this run measures, in run order (after `--phases` and their prerequisites).
    var phases: [WorkloadPhase] { get }
    /// What the workload moves (sizes, the kernel subset), for reports.
    var summary: String { get }
    /// Runs every phase in `directory` (empty, on the target) and returns one sample per phase.
    /// The directory is left empty or holding only what a phase failed on.
    func run(in directory: String, context: WorkloadContext) throws -> [PhaseSample]
}

extension Workload {
    /// Times `body`; returns its seconds and result.
    func timed<Result>(_ body: () throws -> Result) rethrows -> (seconds: Double, result: Result) {
        let start = monotonicNanoseconds()
        let result = try body()
        return (Double(monotonicNanoseconds() - start) / 1e9, result)
    }
}

/// Picks phases by name (`--phases untar,ls`) from a workload's full list, adding what they
/// require, in the workload's order.
func selectPhases(_ all: [WorkloadPhase], names: [String]?) throws -> [WorkloadPhase] {
    guard let names else { return all }
    var wanted = Set<String>()
    func add(_ name: String) throws {
        guard let phase = all.first(where: { $0.name == name }) else {
            throw BenchError.setup("unknown phase \(name) (phases: \(all.map(\.name).joined(separator: ", ")))")
        }
        guard wanted.insert(name).inserted else { return }
        for required in phase.requires { try add(required) }
    }
    for name in names { try add(name) }
    return all.filter { wanted.contains($0.name) }
}
