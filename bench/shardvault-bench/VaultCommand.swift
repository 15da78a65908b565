import ArgumentParser
import Foundation
import Vault

/// How much `vault` measures.
struct VaultSettings {
    var quick: Bool
    var samples: Int
    var fileBytes: Int
    var pieceBytes = 1 << 20
    var randomIOBytes = 4096
    var randomSeed: UInt64 = 0x5348_5244_5641_554C
    var randomReadSeconds: Double
    var randomWrites: Int
    var namespaceFiles: Int
    var filesPerDirectory = 1000
    var readdirPageEntries = 128
    var openEntries: [Int]
    var openWarmSamples: Int
    var openColdSamples: Int
    var cacheBytes = Vault.Options().cacheBytes
    /// nil when cold reads are measured, otherwise why they are not.
    var coldUnavailable: String?

    static let full = VaultSettings(quick: false, samples: 3, fileBytes: 1 << 30, randomReadSeconds: 2,
                                    randomWrites: 4096, namespaceFiles: 100_000,
                                    openEntries: [10_000, 100_000, 1_000_000], openWarmSamples: 3, openColdSamples: 1)
    static let quickRun = VaultSettings(quick: true, samples: 2, fileBytes: 16 << 20, randomReadSeconds: 0.1,
                                        randomWrites: 64, namespaceFiles: 2000, filesPerDirectory: 100,
                                        openEntries: [1000, 2000], openWarmSamples: 1, openColdSamples: 1)
}

struct VaultCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "The Vault layer without FUSE: file throughput, random I/O, namespace operations, open time and memory.",
        discussion: """
            Creates a 4+2 vault (KDF test) in a fresh temporary directory under --dir and drives the \
            Vault API directly. Cold reads and cold opens drop the page cache system-wide (root only). \
            Open time and memory are measured in child processes (`vault-open-probe`).
            """)

    @OptionGroup var common: BenchRunOptions

    @Option(name: .long, help: ArgumentHelp("Vault sizes (files) whose open time and memory are measured, comma-separated "
                                            + "(default 10000,100000,1000000; quick 1000,2000).", valueName: "n,n,…"))
    var entries: String?

    enum Job: String, ExpressibleByArgument, CaseIterable {
        case data, namespace, small
    }

    @Option(name: .long, parsing: .upToNextOption,
            help: "Run only these jobs: data (file throughput, random I/O), namespace (creates, lookups, readdir, open), small (inline vs block small files).")
    var jobs: [Job] = Job.allCases

    func parsedEntries() throws -> [Int]? {
        guard let entries else { return nil }
        let values = entries.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--entries takes positive counts separated by commas, e.g. 10000,100000,1000000")
        }
        return values.map { $0! }
    }

    func validate() throws {
        _ = try parsedEntries()
    }

    func run() throws {
        var settings = common.quick ? VaultSettings.quickRun : VaultSettings.full
        if let samples = common.samples { settings.samples = samples }
        if let entries = try parsedEntries() { settings.openEntries = entries }
        settings.coldUnavailable = common.coldUnavailable

        try common.withScratchRoot(prefix: "shardvault-bench-vault") { root in try measure(settings: settings, root: root) }
    }

    private func measure(settings: VaultSettings, root: String) throws {
        let started = monotonicNanoseconds()
        let host = HostInfo.probe(directory: root)
        let options = VaultSession.options()
        let configuration = VaultReport.Configuration(
            quick: settings.quick, samples: settings.samples,
            vaultGeometry: "\(VaultSession.dataShards)+\(VaultSession.parityShards)", kdf: "test",
            fileBytes: settings.fileBytes, pieceBytes: settings.pieceBytes, randomIOBytes: settings.randomIOBytes,
            randomSeed: settings.randomSeed, randomReadSecondsPerSample: settings.randomReadSeconds,
            randomWritesPerSample: settings.randomWrites, namespaceFiles: settings.namespaceFiles,
            filesPerDirectory: settings.filesPerDirectory, readdirPageEntries: settings.readdirPageEntries,
            openEntries: settings.openEntries, openWarmSamples: settings.openWarmSamples,
            openColdSamples: settings.coldUnavailable == nil ? settings.openColdSamples : 0,
            coldCache: settings.coldUnavailable.map { "not measured: " + $0 } ?? "drop_caches",
            commitIntervalSeconds: options.commitInterval, checkpointIntervalSegments: options.checkpointInterval,
            chunkCacheBytes: options.cacheBytes, healsInBackground: options.pool.healsInBackground,
            blockBytes: BlockStore.blockSize, chunkBytes: BlockStore.chunkSize)
        let reporter = VaultReporter(report: VaultReport(startedAt: ISO8601DateFormatter().string(from: Date()),
                                                         host: host, configuration: configuration),
                                  rateLabel: "ops/s")

        print("shardvault-bench \(BenchVersion.string) vault\(settings.quick ? " --quick" : "")")
        print("host: \(host.hostname), \(host.cores) cores, \(host.memoryBytes >> 20) MiB, kernel \(host.kernel), "
              + "\(host.cpuModel ?? "unknown CPU"); load \(host.loadAverageAtStart ?? "?")")
        print("vault: 4+2, KDF test, \(host.filesystem) at \(root); file \(humanBytes(settings.fileBytes)); "
              + "cold: \(configuration.coldCache)")
        print("MB/s = 10^6 bytes of file data per second; ops/s column = operations (calls, entries) per second")
        print("")

        if jobs.contains(.data) {
            try VaultDataJobs(settings: settings, reporter: reporter, root: root + "/data").run()
            try? FileManager.default.removeItem(atPath: root + "/data")
        }
        if jobs.contains(.namespace) {
            try VaultNamespaceJobs(settings: settings, reporter: reporter, base: root).run()
        }
        if jobs.contains(.small) {
            try VaultSmallFileJobs(settings: settings, reporter: reporter, base: root).run()
        }

        reporter.report.host.loadAverageAtEnd = HostInfo.loadAverage()
        reporter.report.durationSeconds = Double(monotonicNanoseconds() - started) / 1e9
        print("")
        print(String(format: "finished in %.1f s", reporter.report.durationSeconds)
              + "; load average \(reporter.report.host.loadAverageAtEnd ?? "?")")
        try common.writeJSON(of: reporter)
    }
}
