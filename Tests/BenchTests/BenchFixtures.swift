import Foundation
@testable import shardvault_bench

/// Small hand-made reports for the statistics, writer and diff tests.
enum BenchFixtures {
    static let host = HostInfo(hostname: "test-host", cores: 2, memoryBytes: 1 << 30, kernel: "6.1", cpuModel: "test CPU",
                               filesystem: "ext4", directory: "/tmp", loadAverageAtStart: "0.1 0.1 0.1",
                               loadAverageAtEnd: nil)

    static let write = WorkloadPhase(name: "canonical.write", title: "write 1MiB+fsync", unit: .megabytesPerSecond,
                                     method: "stream")
    static let untar = WorkloadPhase(name: "canonical.untar", title: "untar", unit: .seconds, method: "tar xf")

    /// A compare report over `phases` whose runs have, per target, one value per iteration
    /// (MB/s phases: bytes 1e6 per value, so a value of 2 means 2 MB/s; s phases: the seconds).
    /// A nil value marks that iteration as failed for that target.
    static func compareReport(phases: [WorkloadPhase] = [write, untar],
                              values: KeyValuePairs<String, [Double?]>) -> CompareReport {
        let iterations = values.map(\.value.count).max() ?? 0
        let configuration = CompareReport.Configuration(
            workload: "canonical", scale: "tiny", iterations: iterations, warmup: false, phases: phases, streamBytes: 1 << 20,
            kernelSubset: nil, coldCache: "drop_caches", command: "shardvault-bench compare", scratchDirectory: "/tmp/x")
        let report = CompareReport(startedAt: "2026-01-01T00:00:00Z", host: host, configuration: configuration,
                                   targets: values.map { .init(name: $0.key, status: .measured, description: "test") })
        var runs: [CompareReport.Run] = []
        for iteration in 0 ..< iterations {
            for (target, series) in values {
                guard let value = series[iteration] else {
                    runs.append(.init(target: target, iteration: iteration + 1, failure: "wrong result: test"))
                    continue
                }
                let samples = phases.map { phase in
                    phase.unit == .seconds
                        ? PhaseSample(phase: phase.name, seconds: value, bytes: 1000, operations: 10)
                        : PhaseSample(phase: phase.name, seconds: 1, bytes: Int(value * 1e6), operations: 1)
                }
                runs.append(.init(target: target, iteration: iteration + 1, samples: samples))
            }
        }
        return report.summarized(runs: runs, dropped: [:])
    }

    static func result(_ name: String, _ unit: String, _ samples: [Double]) -> ReportDiff.Result {
        ReportDiff.Result(name: name, unit: unit, median: Measurement.median(samples), min: samples.min()!,
                          max: samples.max()!, samples: samples)
    }

    static func temporaryPath(_ name: String) -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent(name).path
    }
}
