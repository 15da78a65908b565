import Foundation

/// Runs one workload against several targets: an optional untimed warm-up per target, then the
/// iterations, interleaved (every target once per iteration, the order rotated each time) so
/// that load from other processes on the shared machine spreads over all targets alike. Every
/// run gets a fresh instance, torn down before the next starts.
///
/// A run that fails — a wrong result, a tool error, a crash — counts for nothing: its samples
/// are not used, and the failure is reported with the target ("failed in 1 of 3 iterations").
/// The target keeps its later iterations, so one sporadic failure neither hides the numbers of
/// the runs that passed nor the failure rate. Only a target whose instance cannot even be
/// created is dropped, since every further attempt would fail the same way.
final class CompareRunner {
    let targets: [BenchTarget]
    let workload: Workload
    /// The same workload at tiny scale, run once per target before measuring (nil: none).
    let warmup: Workload?
    let iterations: Int
    let scratch: String
    let keep: Bool
    let coldCacheUnavailable: String?
    /// `--inject-corruption`: every run damages a file before verifying it (the smoke test).
    var injectCorruption = false
    private(set) var runs: [CompareReport.Run] = []
    /// Targets whose set-up failed, with the reason: not run again.
    private(set) var dropped: [String: String] = [:]
    /// Called after every run (progressive reports).
    var afterEachRun: ((CompareRunner) -> Void)?

    init(targets: [BenchTarget], workload: Workload, warmup: Workload?, iterations: Int, scratch: String,
         keep: Bool, coldCacheUnavailable: String?) {
        self.targets = targets
        self.workload = workload
        self.warmup = warmup
        self.iterations = iterations
        self.scratch = scratch
        self.keep = keep
        self.coldCacheUnavailable = coldCacheUnavailable
    }

    func run() {
        if let warmup {
            for target in targets { runOnce(target, iteration: 0, workload: warmup) }
        }
        for iteration in 1 ... max(1, iterations) {
            let live = targets.filter { dropped[$0.name] == nil }
            guard !live.isEmpty else { break }
            let shift = (iteration - 1) % live.count
            for target in live[shift...] + live[..<shift] { runOnce(target, iteration: iteration, workload: workload) }
        }
    }

    /// Measured runs of `target` (warm-up excluded), passed or failed, in iteration order.
    func measuredRuns(of target: String) -> [CompareReport.Run] {
        runs.filter { $0.target == target && $0.iteration > 0 }
    }

    /// True when any run failed (the bench then exits 1).
    var anyFailure: Bool { runs.contains { $0.failure != nil || $0.workloadFailures != nil } }

    private func runOnce(_ target: BenchTarget, iteration: Int, workload: Workload) {
        CleanupRegistry.shared.parkIfInterrupted()
        let label = iteration == 0 ? "[warm-up]" : "[\(iteration)/\(iterations)]"
        let load = HostInfo.loadAverage()
        print("\(label) \(target.name) (load \(load ?? "?")):", terminator: "")
        fflush(nil)
        var run = CompareReport.Run(target: target.name, iteration: iteration, loadAverage: load)
        var instance: TargetInstance?
        var root: ScratchDirectory?
        var settingUp = true
        do {
            let made = try ScratchDirectory(under: scratch, prefix: target.name.replacingOccurrences(of: "/", with: "_"))
            root = made
            let logs = made.path + "/logs"
            try TargetSupport.makeDirectories(logs)
            let start = monotonicNanoseconds()
            instance = try target.start(root: made.path)
            settingUp = false
            run.setupSeconds = Double(monotonicNanoseconds() - start) / 1e9
            print(String(format: " set-up %.1f s", run.setupSeconds), terminator: "")
            fflush(nil)
            let live = instance!
            var context = WorkloadContext(coldCacheUnavailable: coldCacheUnavailable, logDirectory: logs) { phase, sample in
                print(" | \(phase.name) \(ResultTable.format(sample.value(in: phase.unit))) \(phase.unit.rawValue)", terminator: "")
                fflush(nil)
            }
            context.remount = { try live.remount() }
            context.injectCorruption = injectCorruption
            run.samples = try workload.run(in: live.directory, context: context)
        } catch let partial as WorkloadFailures {
            run.samples = partial.samples
            run.workloadFailures = partial.failures
        } catch {
            // After Ctrl-C, errors are the cleanup's doing; the signal thread reports and exits.
            CleanupRegistry.shared.parkIfInterrupted()
            run.failure = (settingUp ? "set-up: " : "") + "\(error)"
            if settingUp { dropped[target.name] = "\(error)" }
            print("\n  FAILED: \(run.failure!)")
        }
        let start = monotonicNanoseconds()
        if let problem = instance?.stop() {
            run.teardownProblem = problem
            print("\n  teardown: \(problem)", terminator: "")
        }
        run.unmountSeconds = Double(monotonicNanoseconds() - start) / 1e9
        root?.finish(keep: keep)
        run.teardownSeconds = Double(monotonicNanoseconds() - start) / 1e9
        print(String(format: " | teardown %.1f s", run.teardownSeconds))
        fflush(nil)
        runs.append(run)
        afterEachRun?(self)
    }
}
