import Foundation

/// Everything one `compare` run produced: the same top-level layout as the other modes
/// (tool, mode, startedAt, host, configuration, results, ratios, notes; bench/README.md), plus
/// what happened to each target and each run.
struct CompareReport: CollectedReport {
    struct Configuration: Codable {
        var workload: String
        var scale: String
        var iterations: Int
        /// Whether every target first ran the workload once at tiny scale, untimed.
        var warmup: Bool
        var phases: [WorkloadPhase]
        var streamBytes: Int
        var kernelSubset: KernelSubset?
        /// "drop_caches" when cold reads were cold, otherwise why not.
        var coldCache: String
        /// The command line of this run, to re-run it.
        var command: String
        var scratchDirectory: String
    }

    /// A target as asked for on the command line, and what became of it.
    struct TargetStatus: Codable {
        enum Status: String, Codable { case measured, skipped, failed }
        var name: String
        var status: Status
        /// Version and options (measured and failed targets).
        var description: String?
        /// Why it was skipped or how it failed.
        var reason: String?
    }

    /// One target in one iteration (iteration 0 is the warm-up).
    struct Run: Codable {
        var target: String
        var iteration: Int
        var loadAverage: String?
        var setupSeconds: Double
        var teardownSeconds: Double
        var samples: [PhaseSample]
        /// A failure, or a teardown that needed force.
        var problem: String?
    }

    var tool = MicroReport.Tool()
    var mode = "compare"
    var startedAt: String
    var durationSeconds: Double = 0
    var host: HostInfo
    var configuration: Configuration
    var targets: [TargetStatus] = []
    var runs: [Run] = []
    /// One per (phase, target): `canonical.<phase>.<target>`, one sample per iteration in run order.
    var results: [Measurement] = []
    /// Speed ratios (>1: the numerator target is faster), see `CompareRatios`.
    var ratios: [Ratio] = []
    var notes: [String] = []

    static func resultName(workload: String, phase: String, target: String) -> String {
        "\(workload).\(phase).\(target)"
    }

    func measurement(phase: String, target: String) -> Measurement? {
        let name = Self.resultName(workload: configuration.workload, phase: phase, target: target)
        return results.first { $0.name == name }
    }

    var measuredTargets: [String] { targets.filter { $0.status == .measured }.map(\.name) }
}

/// Speed ratios between targets, per phase, of every target vs native and of every ShardVault
/// variant vs every peer: "A vs B" is how many times faster A is than B —
/// throughput A / throughput B, or time B / time A — so >1 always means A is faster. The min–max
/// is over iterations taken back to back (same iteration index), like micro's paired ratios.
enum CompareRatios {
    static func make(_ report: CompareReport) -> [Ratio] {
        let measured = report.measuredTargets
        var ratios: [Ratio] = []
        for phase in report.configuration.phases {
            if measured.contains("native") {
                for target in measured where target != "native" {
                    if let ratio = ratio(report, phase, target, "native") { ratios.append(ratio) }
                }
            }
            for variant in measured where isShardVault(variant) {
                for peer in measured where !isShardVault(peer) && peer != "native" {
                    if let ratio = ratio(report, phase, variant, peer) { ratios.append(ratio) }
                }
            }
        }
        return ratios
    }

    /// `shardvault` and its `shardvault:OPT` variants.
    static func isShardVault(_ target: String) -> Bool { target == "shardvault" || target.hasPrefix("shardvault:") }

    static func ratio(_ report: CompareReport, _ phase: WorkloadPhase, _ numerator: String,
                      _ denominator: String) -> Ratio? {
        guard let top = report.measurement(phase: phase.name, target: numerator),
              let bottom = report.measurement(phase: phase.name, target: denominator) else { return nil }
        func speedup(_ a: Double, _ b: Double) -> Double { phase.unit.higherIsBetter ? a / b : b / a }
        let paired = zip(top.samples, bottom.samples).map { speedup($0, $1) }
        let value = speedup(top.median, bottom.median)
        return Ratio(name: "\(phase.name): \(numerator) vs \(denominator)", numerator: top.name, denominator: bottom.name,
                     value: value, pairedMin: paired.min() ?? value, pairedMax: paired.max() ?? value, goal: nil, pass: nil)
    }

    static func find(_ report: CompareReport, phase: String, _ numerator: String, _ denominator: String) -> Ratio? {
        report.ratios.first { $0.name == "\(phase): \(numerator) vs \(denominator)" }
    }
}
