import Foundation

/// How a phase's value reads: a throughput (higher is better) or a duration (lower is better).
enum PhaseUnit: String, Codable {
    case seconds = "s"
    case megabytesPerSecond = "MB/s"

    var higherIsBetter: Bool { self == .megabytesPerSecond }
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

    /// The sample in its phase's unit.
    func value(in unit: PhaseUnit) -> Double {
        switch unit {
        case .seconds: return seconds
        case .megabytesPerSecond: return Double(bytes) / seconds / 1e6
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
