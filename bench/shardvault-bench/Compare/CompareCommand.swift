import ArgumentParser
import Foundation

extension BenchScale: ExpressibleByArgument {}

/// `shardvault-bench compare`: ShardVault's FUSE mount against the encrypted-filesystem peers and
/// the bare disk, on the same workload, in the same run.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "ShardVault's mount vs gocryptfs, securefs, CryFS, JuiceFS and the bare disk on gocryptfs's canonical workload.",
        discussion: """
            Every target gets a fresh instance per iteration under --dir (created, mounted, torn down): \
            shardvault (4+2 over 6 directories, next to this binary or --shardvault), native (a plain \
            directory), gocryptfs, securefs, cryfs, juicefs, and path:/some/dir. A target whose tool is \
            missing is skipped with the reason. Phases: write (stream + fsync), read (cold), untar, \
            ls (ls -lR), md5 (md5sum -c of every file), rm (rm -rf); each checks its result. The kernel \
            tree is cut from /usr/src/linux-source-*.tar.xz once and cached. Cold reads drop the page \
            cache system-wide (root only). Ctrl-C unmounts everything before exiting. Method and \
            results: docs/BENCHMARKS.md.
            """)

    @OptionGroup var common: BenchRunOptions

    @Option(help: ArgumentHelp("Targets, comma-separated: \(TargetCatalog.builtInNames.joined(separator: ",")), path:/dir, or all.",
                               valueName: "list"))
    var targets = "all"

    @Option(help: ArgumentHelp("What to run: \(WorkloadCatalog.suites.joined(separator: "|")) (default canonical); s3 and micro "
                               + "run those modes (JSON/Markdown files get a -s3/-micro suffix), all runs every workload, then s3 and micro.",
                               valueName: "suite"))
    var suite = "canonical"

    /// For scripts and the smoke test: every name `--workload` accepts, one a line.
    @Flag(help: "Print the workloads --workload accepts, one a line, and exit.")
    var listWorkloads = false

    @Option(help: ArgumentHelp("Also write a bar chart (SVG) of every target's speed relative to the first target.",
                               valueName: "file"))
    var svg: String?

    @Option(help: ArgumentHelp("Only these workloads, comma-separated, instead of a suite: \(WorkloadCatalog.workloadNames.joined(separator: ",")).",
                               valueName: "list"))
    var workload: String?

    /// The smoke test's proof that verification works: every run damages a file it then checks.
    @Flag(help: .hidden)
    var injectCorruption = false

    @Option(help: "Measured iterations per target (default 5; --samples is a synonym).")
    var iterations: Int?

    @Option(help: "Workload size: full (kernel tree without drivers/, 512 MiB stream), medium, tiny (smoke test).")
    var scale: BenchScale = .full

    @Option(name: .customLong("kernel-dirs"),
            help: ArgumentHelp("Top-level kernel directories to untar instead of the scale's: fs,include,… or all,-drivers.",
                               valueName: "list"))
    var kernelDirectories: String?

    @Option(help: ArgumentHelp("Kernel source tarball (default: newest \(KernelSubset.defaultSourceGlob)).", valueName: "file"))
    var kernelSource: String?

    @Option(name: .customLong("cache-dir"),
            help: ArgumentHelp("Where kernel subsets are cached (default $XDG_CACHE_HOME or ~/.cache, /shardvault-bench).", valueName: "dir"))
    var cacheDirectory: String?

    @Option(name: .customLong("stream-mib"), help: ArgumentHelp("Stream file size in MiB instead of the scale's.", valueName: "MiB"))
    var streamMiB: Int?

    @Option(help: ArgumentHelp("Only these phases (and what they need): write,read,untar,ls,md5,rm.", valueName: "list"))
    var phases: String?

    @Flag(help: "Skip the untimed tiny-scale warm-up run per target.")
    var noWarmup = false

    @Option(help: ArgumentHelp("Also write the result tables as Markdown to this file.", valueName: "file"))
    var markdown: String?

    @Option(help: ArgumentHelp("The shardvault binary (default: next to this shardvault-bench).", valueName: "path"))
    var shardvault: String?

    @Option(name: .customLong("shardvault-mount-option"),
            help: ArgumentHelp("Extra `shardvault mount -o` option (repeatable), to try settings.", valueName: "opt"))
    var shardvaultMountOptions: [String] = []

    func validate() throws {
        if let iterations, iterations < 1 { throw ValidationError("--iterations must be at least 1") }
        if let streamMiB, streamMiB < 1 { throw ValidationError("--stream-mib must be at least 1") }
        if let iterations, let samples = common.samples, iterations != samples {
            throw ValidationError("--iterations and --samples are the same setting; give one")
        }
        guard WorkloadCatalog.suites.contains(suite) else {
            throw ValidationError("unknown suite \(suite) (suites: \(WorkloadCatalog.suites.joined(separator: ", ")))")
        }
        if phases != nil, workloadNames != ["canonical"] {
            throw ValidationError("--phases selects phases of the canonical workload only")
        }
    }

    /// The workloads this run measures, in order.
    var workloadNames: [String] {
        if let workload { return workload.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        switch suite {
        case "workloads": return WorkloadCatalog.realistic.map(\.name)
        case "fio": return WorkloadCatalog.fio.map(\.name)
        case "all": return WorkloadCatalog.workloadNames
        case "s3", "micro": return []
        default: return ["canonical"]
        }
    }

    /// The other modes this run starts after the workloads (`--suite s3|micro|all`).
    var otherModes: [String] {
        guard workload == nil else { return [] }
        switch suite {
        case "s3": return ["s3"]
        case "micro": return ["micro"]
        case "all": return ["s3", "micro"]
        default: return []
        }
    }

    func run() throws {
        if listWorkloads {
            WorkloadCatalog.workloadNames.forEach { print($0) }
            return
        }
        guard !workloadNames.isEmpty || !otherModes.isEmpty else {
            throw BenchError.setup("suite \(suite) has no workloads registered (WorkloadCatalog)")
        }
        CleanupRegistry.shared.installSignalHandlers()
        var failures: [String] = []
        if !workloadNames.isEmpty {
            do {
                try runWorkloads()
            } catch {
                // Alone, the workloads' error is the run's; in --suite all the other modes still run.
                guard !otherModes.isEmpty else { throw error }
                let message = (error as? ExitCode) == nil ? "\(error)" : "a workload run failed"
                FileHandle.standardError.write(Data("compare: \(message); going on with \(otherModes.joined(separator: ", "))\n".utf8))
                failures.append("workloads (\(message))")
            }
        } else if let svg {
            print("note: --suite \(suite) runs no workload, so no chart is written to \(svg)")
        }
        for mode in otherModes {
            let child = OtherModeRun(mode: mode, quick: common.quick, samples: common.samples, noCold: common.noCold,
                                     dir: common.dir, keep: common.keep, json: common.json, markdown: markdown,
                                     shardvault: shardvault)
            let status = try child.run()
            if status != 0 { failures.append("\(mode) (exit \(status))") }
        }
        if !failures.isEmpty {
            if !otherModes.isEmpty { print("\nfailed: " + failures.joined(separator: "; ")) }
            throw ExitCode(1)
        }
    }

    /// The workloads of `--suite`/`--workload` on every target: the `compare` run proper.
    private func runWorkloads() throws {
        defer { CleanupRegistry.shared.runAll() }
        let started = monotonicNanoseconds()
        let scale = common.quick ? BenchScale.tiny : self.scale
        let iterations = self.iterations ?? common.samples ?? (common.quick ? 1 : 5)
        let streamBytes = streamMiB.map { $0 << 20 } ?? scale.streamBytes

        // Targets: skipped ones are reported with their reason and cost nothing further.
        let names = targets == "all" ? TargetCatalog.builtInNames
            : targets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var statuses: [CompareReport.TargetStatus] = []
        var available: [BenchTarget] = []
        for name in names {
            let target = try TargetCatalog.make(name, shardvaultBinary: shardvault, shardvaultMountOptions: shardvaultMountOptions)
            if let reason = target.unavailableReason() {
                print("skipping \(name): \(reason)")
                statuses.append(.init(name: name, status: .skipped, reason: reason))
            } else {
                available.append(target)
                statuses.append(.init(name: name, status: .measured, description: target.describe()))
            }
        }
        guard !available.isEmpty else { throw BenchError.setup("no target can run here (see the reasons above)") }

        // The workload, and its tiny twin for the warm-up.
        let workload = try makeSuite(scale: scale, streamBytes: streamBytes, kernelSelection: kernelDirectories)
        let warmup = try (noWarmup || common.quick) ? nil
            : makeSuite(scale: .tiny, streamBytes: BenchScale.tiny.streamBytes, kernelSelection: nil)
        let selected = workload.phases
        let subset = workload.members.compactMap { ($0 as? CanonicalWorkload)?.subset }.first

        let base = common.dir ?? ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        let scratch = try ScratchDirectory(under: base, prefix: "shardvault-compare")
        defer { scratch.finish(keep: common.keep) }
        let coldUnavailable = common.coldUnavailable
        let host = HostInfo.probe(directory: scratch.path)
        let configuration = CompareReport.Configuration(
            workload: workload.name, scale: kernelDirectories == nil && streamMiB == nil ? scale.rawValue : "custom",
            iterations: iterations, warmup: warmup != nil, phases: selected, streamBytes: streamBytes,
            kernelSubset: subset, coldCache: coldUnavailable.map { "warm (not dropped: \($0))" } ?? "drop_caches",
            command: Self.commandLine(), scratchDirectory: scratch.path)
        let reporter = BenchReporter(report: CompareReport(startedAt: ISO8601DateFormatter().string(from: Date()), host: host,
                                                           configuration: configuration, targets: statuses),
                                     rateLabel: "ops/s")

        print("shardvault-bench \(BenchVersion.string) compare: \(workload.name) workload, \(configuration.scale) scale, "
              + "\(iterations) iteration(s)\(warmup == nil ? "" : " + warm-up")")
        print("host: \(host.hostname), \(host.cores) cores, \(host.memoryBytes >> 20) MiB, kernel \(host.kernel); "
              + "\(host.filesystem) at \(scratch.path); load \(host.loadAverageAtStart ?? "?")")
        print("workload: \(workload.summary); cold read: \(configuration.coldCache)")
        for target in available { print("  \(target.name): \(target.describe())") }
        print("")

        let runner = CompareRunner(targets: available, workload: workload, warmup: warmup, iterations: iterations,
                                   scratch: scratch.path, keep: common.keep, coldCacheUnavailable: coldUnavailable)
        runner.injectCorruption = injectCorruption
        // Reports are rewritten after every run, so a run killed hours in keeps what it measured.
        let totalRuns = available.count * (iterations + (warmup == nil ? 0 : 1))
        runner.afterEachRun = { [common, markdown] runner in
            var snapshot = reporter.report.summarized(runs: runner.runs, dropped: runner.dropped)
            snapshot.host.loadAverageAtEnd = HostInfo.loadAverage()
            snapshot.durationSeconds = Double(monotonicNanoseconds() - started) / 1e9
            snapshot.notes.append("INCOMPLETE: written after \(runner.runs.count) of \(totalRuns) runs; the finished run replaces it")
            if let json = common.json { try? writeReportJSON(snapshot, to: json) }
            if let markdown { try? CompareTables.markdown(snapshot).write(toFile: markdown, atomically: true, encoding: .utf8) }
            if let svg, let chart = CompareChart.make(snapshot), !chart.series.isEmpty {
                try? chart.render().write(toFile: svg, atomically: true, encoding: .utf8)
            }
        }
        runner.run()
        let summary = reporter.report.summarized(runs: runner.runs, dropped: runner.dropped)
        reporter.report.targets = summary.targets
        reporter.report.runs = summary.runs
        print("")
        for measurement in summary.results { reporter.add(measurement) }
        reporter.report.ratios = summary.ratios

        reporter.report.host.loadAverageAtEnd = HostInfo.loadAverage()
        reporter.report.durationSeconds = Double(monotonicNanoseconds() - started) / 1e9
        CompareTables.printAll(reporter.report)
        print("")
        print(String(format: "finished in %.1f s", reporter.report.durationSeconds)
              + "; load average \(reporter.report.host.loadAverageAtEnd ?? "?")")
        try common.writeJSON(of: reporter)
        if let markdown {
            try CompareTables.markdown(reporter.report).write(toFile: markdown, atomically: true, encoding: .utf8)
            print("wrote \(markdown)")
        }
        if let svg { try CompareChart.write(reporter.report, to: svg) }
        if runner.anyFailure { throw ExitCode(1) }
    }

    /// The suite named by `--suite`/`--workload` at `scale`; canonical honours `--phases` and
    /// cuts its kernel subset (`kernelSelection`, or the scale's) only when a tree phase runs.
    private func makeSuite(scale: BenchScale, streamBytes: Int, kernelSelection: String?) throws -> WorkloadSuite {
        let members: [Workload] = try workloadNames.map { name in
            guard name == "canonical" else { return try WorkloadCatalog.make(name, scale: scale) }
            let selected = try selectPhases(CanonicalWorkload.allPhases(streamBytes: streamBytes),
                                            names: phases.map { $0.split(separator: ",").map(String.init) })
            let needsTree = selected.contains { CanonicalWorkload.treePhases.contains($0.name) }
            let subset = needsTree ? try prepareSubset(kernelSelection ?? scale.kernelSelection) : nil
            return CanonicalWorkload(streamBytes: streamBytes, subset: subset, phases: selected)
        }
        return WorkloadSuite(name: workload ?? suite, members: members)
    }

    private func prepareSubset(_ selection: String) throws -> KernelSubset {
        guard let source = kernelSource ?? KernelSubset.defaultSource() else {
            throw BenchError.setup("no kernel source: apt install linux-source-6.1 (make setup-bench), or --kernel-source FILE")
        }
        let environment = ProcessInfo.processInfo.environment
        let cacheRoot = cacheDirectory ?? ((environment["XDG_CACHE_HOME"] ?? ((environment["HOME"] ?? "/tmp") + "/.cache"))
            + "/shardvault-bench")
        return try KernelSubset.prepare(source: source, selection: KernelSelection(parsing: selection), cacheRoot: cacheRoot)
    }

    /// This run's command line, shell-quoted where needed, to re-run it from the report.
    static func commandLine() -> String {
        CommandLine.arguments.map { argument in
            argument.allSatisfy({ $0.isLetter || $0.isNumber || "-_./,:=+@".contains($0) }) ? argument
                : "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}
