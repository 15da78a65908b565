import ArgumentParser
import Foundation

/// How long and how often `micro` measures.
struct MicroSettings {
    var quick: Bool
    /// Samples per pool / ceiling measurement.
    var samples: Int
    /// Samples per in-memory (erasure, checksum) measurement.
    var cpuSamples: Int
    /// A pool or ceiling sample stops after this many bytes or seconds, whichever comes first.
    var ioTargetBytes: Int
    var ioTargetSeconds: Double
    var cpuTarget: SampleTarget
    var objectSizes: [Int]
    /// nil when cold reads are measured, otherwise why they are not.
    var coldUnavailable: String?

    static let full = MicroSettings(quick: false, samples: 5, cpuSamples: 7,
                                    ioTargetBytes: 256 << 20, ioTargetSeconds: 1.0,
                                    cpuTarget: SampleTarget(bytes: 1 << 30, seconds: 0.5, minimumOperations: 16),
                                    objectSizes: [4 << 10, 1 << 20, 64 << 20], coldUnavailable: nil)
    static let quickRun = MicroSettings(quick: true, samples: 2, cpuSamples: 3,
                                        ioTargetBytes: 8 << 20, ioTargetSeconds: 0.05,
                                        cpuTarget: SampleTarget(bytes: 64 << 20, seconds: 0.05, minimumOperations: 4),
                                        objectSizes: [4 << 10, 1 << 20, 64 << 20], coldUnavailable: nil)

    func ioTarget(maximumOperations: Int = .max) -> SampleTarget {
        SampleTarget(bytes: ioTargetBytes, seconds: ioTargetSeconds, minimumOperations: 1,
                     maximumOperations: maximumOperations)
    }
}

struct MicroCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "micro",
        abstract: "Layer micro-benchmarks: RS codec, checksums, VolumePool put/get against a plain-I/O ceiling.",
        discussion: """
            Creates a 4+2 VolumePool in a fresh temporary directory under --dir and measures, in the \
            same run and the same directories, the pool and plain POSIX I/O moving the same shard \
            bytes (the ceiling). Cold-cache reads drop the page cache system-wide (root only).
            """)

    @OptionGroup var common: BenchRunOptions

    enum Job: String, ExpressibleByArgument, CaseIterable {
        case erasure, pool
    }

    @Option(name: .long, parsing: .upToNextOption,
            help: "Run only these jobs: erasure (RS codec and checksums, in memory), pool (put/get vs ceiling).")
    var jobs: [Job] = Job.allCases

    func validate() throws {
    }

    func run() throws {
        var settings = common.quick ? MicroSettings.quickRun : MicroSettings.full
        if let samples = common.samples {
            settings.samples = samples
            settings.cpuSamples = max(samples, settings.cpuSamples)
        }
        settings.coldUnavailable = common.coldUnavailable

        try common.withScratchRoot(prefix: "shardvault-bench") { root in try measure(settings: settings, root: root) }
    }

    private func measure(settings: MicroSettings, root: String) throws {
        let started = monotonicNanoseconds()
        let host = HostInfo.probe(directory: root)
        let configuration = MicroReport.Configuration(
            quick: settings.quick, samples: settings.samples, ioTargetBytesPerSample: settings.ioTargetBytes,
            ioTargetSecondsPerSample: settings.ioTargetSeconds, cpuTargetBytesPerSample: settings.cpuTarget.bytes,
            cpuTargetSecondsPerSample: settings.cpuTarget.seconds, objectSizes: settings.objectSizes,
            poolGeometry: "4+2", stripeSize: PoolJobs.stripeSize,
            coldCache: settings.coldUnavailable.map { "not measured: " + $0 } ?? "drop_caches",
            degradedVolumesOmitted: PoolJobs.omittedVolumes)
        let reporter = Reporter(report: MicroReport(startedAt: ISO8601DateFormatter().string(from: Date()),
                                                    host: host, configuration: configuration),
                                  rateLabel: "obj/s")

        print("shardvault-bench \(BenchVersion.string) micro\(settings.quick ? " --quick" : "")")
        print("host: \(host.hostname), \(host.cores) cores, \(host.memoryBytes >> 20) MiB, kernel \(host.kernel), "
              + "\(host.cpuModel ?? "unknown CPU"); load \(host.loadAverageAtStart ?? "?")")
        print("pool: 4+2, 1 MiB stripes, \(host.filesystem) at \(root); cold reads: \(configuration.coldCache)")
        print("MB/s = 10^6 bytes of object (payload) data per second; obj/s = objects (or stripes) per second")
        print("")

        if jobs.contains(.erasure) { try ErasureJobs.run(settings: settings, reporter: reporter) }
        if jobs.contains(.pool) { try PoolJobs(settings: settings, reporter: reporter, root: root).run() }
        reporter.printRatios()

        reporter.report.host.loadAverageAtEnd = HostInfo.loadAverage()
        reporter.report.durationSeconds = Double(monotonicNanoseconds() - started) / 1e9
        print("")
        print(String(format: "finished in %.1f s", reporter.report.durationSeconds)
              + "; load average \(reporter.report.host.loadAverageAtEnd ?? "?")")
        try common.writeJSON(of: reporter)
    }
}
