import Foundation

/// Everything one `compare` run produced: the same top-level layout as the other modes
/// (tool, mode, startedAt, host, configuration, results, ratios, notes; bench/README.md), plus
/// what happened to each target and each run.
struct CompareReport: CollectedReport {
    struct Configuration: Codable {
        /// The suite or workload list asked for ("canonical", "workloads", "ide,tree").
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
        /// measured: every iteration passed; partial: some failed (numbers from the others);
        /// failed: none passed; skipped: its tool is missing.
        enum Status: String, Codable { case measured, partial, failed, skipped }
        var name: String
        var status: Status
        /// Version and options (all but skipped targets).
        var description: String?
        /// Why it was skipped, or its failures.
        var reason: String?
        /// Measured iterations that passed, of those run.
        var passedIterations: Int?
        var ranIterations: Int?
    }

    /// One target in one iteration (iteration 0 is the warm-up).
    struct Run: Codable {
        var target: String
        var iteration: Int
        var loadAverage: String?
        var setupSeconds: Double = 0
        /// From the unmount request until the daemon has exited: includes work a daemon defers
        /// (frees of deleted data), which the timed phases do not see. 0 for plain directories.
        var unmountSeconds: Double = 0
        /// The unmount plus removing the instance's files.
        var teardownSeconds: Double = 0
        /// The phases that completed (all of them when `failure` is nil).
        var samples: [PhaseSample] = []
        /// Why the run failed: its samples are then not used.
        var failure: String?
        /// Workloads of a suite that failed in this run (their phases have no samples); the
        /// other workloads' samples count.
        var workloadFailures: [WorkloadFailures.Failure]?
        /// A teardown that needed force (the samples still count).
        var teardownProblem: String?
    }

    var tool = MicroReport.Tool()
    var mode = "compare"
    var startedAt: String
    var durationSeconds: Double = 0
    var host: HostInfo
    var configuration: Configuration
    var targets: [TargetStatus] = []
    var runs: [Run] = []
    /// One per (phase, target): `<workload>.<phase>.<target>`, one sample per passed iteration.
    var results: [Measurement] = []
    /// Speed ratios (>1: the numerator target is faster), see `CompareRatios`.
    var ratios: [Ratio] = []
    var notes: [String] = []

    /// `phase` is qualified by its workload (`WorkloadSuite`): "canonical.write".
    static func resultName(phase: String, target: String) -> String {
        "\(phase).\(target)"
    }

    func measurement(phase: String, target: String) -> Measurement? {
        let name = Self.resultName(phase: phase, target: target)
        return results.first { $0.name == name }
    }

    /// Targets with numbers: measured, or partial.
    var measuredTargets: [String] {
        targets.filter { $0.status == .measured || $0.status == .partial }.map(\.name)
    }

    /// The sample of `phase` in each passed iteration of `target`, by iteration.
    func passedSamples(phase: String, target: String) -> [Int: PhaseSample] {
        var samples: [Int: PhaseSample] = [:]
        for run in runs where run.target == target && run.iteration > 0 && run.failure == nil {
            if let sample = run.samples.first(where: { $0.phase == phase }) { samples[run.iteration] = sample }
        }
        return samples
    }
}

/// Speed ratios between targets, per phase, of every target vs native and of every ShardVault
/// variant vs every peer: "A vs B" is how many times faster A is than B —
/// throughput A / throughput B, or time B / time A — so >1 always means A is faster — from the
/// medians over the iterations both passed; the min–max is over those iterations' pairs (same
/// iteration index: taken back to back), like micro's paired ratios.
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
        // Only the iterations both targets passed count, so a failed run of one side never
        // compares its partner's run under other load.
        let tops = report.passedSamples(phase: phase.name, target: numerator)
        let bottoms = report.passedSamples(phase: phase.name, target: denominator)
        let common = tops.keys.filter { bottoms[$0] != nil }.sorted()
        guard !common.isEmpty else { return nil }
        let topValues = common.map { tops[$0]!.value(in: phase.unit) }
        let bottomValues = common.map { bottoms[$0]!.value(in: phase.unit) }
        let paired = zip(topValues, bottomValues).map { speedup($0, $1) }
        let value = speedup(Measurement.median(topValues), Measurement.median(bottomValues))
        return Ratio(name: "\(phase.name): \(numerator) vs \(denominator)", numerator: top.name, denominator: bottom.name,
                     value: value, pairedMin: paired.min() ?? value, pairedMax: paired.max() ?? value, goal: nil, pass: nil)
    }

    static func find(_ report: CompareReport, phase: String, _ numerator: String, _ denominator: String) -> Ratio? {
        report.ratios.first { $0.name == "\(phase): \(numerator) vs \(denominator)" }
    }
}

extension CompareReport {
    /// This report with `runs` in it: each target's status (measured, partial, failed), one
    /// measurement per (phase, target) from the passed iterations, and the ratios.
    func summarized(runs: [Run], dropped: [String: String]) -> CompareReport {
        var report = self
        report.runs = runs
        for index in report.targets.indices where report.targets[index].status != .skipped {
            let name = report.targets[index].name
            let measured = runs.filter { $0.target == name && $0.iteration > 0 }
            let failures = runs.filter { $0.target == name && $0.failure != nil }
            let passed = measured.filter { $0.failure == nil }.count
            let workloadFailures = runs.filter { $0.target == name }.flatMap { $0.workloadFailures ?? [] }
            report.targets[index].passedIterations = passed
            report.targets[index].ranIterations = measured.count
            report.targets[index].status = passed == 0 ? .failed
                : passed < measured.count || !workloadFailures.isEmpty ? .partial : .measured
            if let reason = dropped[name] {
                report.targets[index].reason = "set-up failed, not run again: \(reason)"
            } else if let first = failures.first {
                let place = first.iteration == 0 ? "the warm-up" : "iteration \(first.iteration)"
                report.targets[index].reason = "\(failures.count) failed run(s); first, in \(place): \(first.failure!)"
            } else if let first = workloadFailures.first {
                let names = Set(workloadFailures.map(\.workload)).sorted().joined(separator: ", ")
                report.targets[index].reason = "workload(s) \(names) failed (\(workloadFailures.count) time(s)); first: \(first.workload): \(first.reason)"
            }
        }
        report.results = []
        for phase in configuration.phases {
            for target in report.measuredTargets {
                let samples = report.passedSamples(phase: phase.name, target: target).sorted { $0.key < $1.key }.map(\.value)
                guard !samples.isEmpty else { continue }
                report.results.append(Measurement(
                    name: Self.resultName(phase: phase.name, target: target),
                    unit: phase.unit.rawValue, values: samples.map { $0.value(in: phase.unit) },
                    operations: samples.map(\.operations), bytes: samples.map(\.bytes), seconds: samples.map(\.seconds),
                    note: phase.method))
            }
        }
        report.ratios = CompareRatios.make(report)
        return report
    }
}
