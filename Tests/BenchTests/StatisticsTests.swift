import Foundation
import Testing
@testable import shardvault_bench

/// Medians, spreads, and which way a ratio points for each unit.
@Suite struct StatisticsTests {
    @Test func medianOfOddAndEvenCounts() {
        #expect(Measurement.median([3, 1, 2]) == 2)
        #expect(Measurement.median([4, 1, 3, 2]) == 2.5)
        #expect(Measurement.median([7]) == 7)
        #expect(Measurement.median([5, 5, 1, 9, 9]) == 5)
    }

    @Test func measurementKeepsMinMaxAndRunOrder() {
        let measurement = Measurement(name: "x", unit: "s", values: [3, 1, 2, 10], operations: [1, 1, 1, 1],
                                      bytes: [0, 0, 0, 0], seconds: [3, 1, 2, 10])
        #expect(measurement.min == 1)
        #expect(measurement.max == 10)
        #expect(measurement.median == 2.5)
        #expect(measurement.samples == [3, 1, 2, 10])
        // MB/s from samples: 2e6 bytes in 1 s, 3e6 bytes in 1 s.
        let rates = Measurement(name: "y", samples: [Sample(operations: 1, bytes: 2_000_000, seconds: 1),
                                                     Sample(operations: 4, bytes: 3_000_000, seconds: 1)])
        #expect(rates.unit == "MB/s")
        #expect(rates.median == 2.5)
        #expect(rates.operationsPerSecond == 2.5)
    }

    @Test func unitDirections() {
        for unit in ["MB/s", "GB/s", "ops/s", "obj/s", "lists/s", "IOPS"] {
            #expect(UnitDirection.of(unit: unit) == .higherIsBetter, "\(unit)")
        }
        for unit in ["s", "ms", "ns", "mallocs", "MiB"] {
            #expect(UnitDirection.of(unit: unit) == .lowerIsBetter, "\(unit)")
        }
        #expect(UnitDirection.of(unit: "widgets") == nil)
        #expect(UnitDirection.higherIsBetter.speedup(200, over: 100) == 2)
        #expect(UnitDirection.lowerIsBetter.speedup(50, over: 100) == 2)
        #expect(PhaseUnit.megabytesPerSecond.higherIsBetter && PhaseUnit.operationsPerSecond.higherIsBetter)
        #expect(!PhaseUnit.seconds.higherIsBetter && !PhaseUnit.milliseconds.higherIsBetter)
    }

    /// ">1: faster" both for throughputs (A/B) and for durations (B/A).
    @Test func compareRatiosPointTheSameWayForEveryUnit() throws {
        let report = BenchFixtures.compareReport(values: ["native": [100, 200, 300], "shardvault": [50, 100, 150]])
        let write = try #require(CompareRatios.find(report, phase: "canonical.write", "shardvault", "native"))
        #expect(abs(write.value - 0.5) < 1e-9)   // half the MB/s: half as fast
        let untar = try #require(CompareRatios.find(report, phase: "canonical.untar", "shardvault", "native"))
        #expect(abs(untar.value - 2) < 1e-9)     // half the seconds: twice as fast
        #expect(write.numerator == "canonical.write.shardvault" && write.denominator == "canonical.write.native")
        // No ShardVault-vs-peer ratios without peers; one vs-native ratio per phase.
        #expect(report.ratios.count == 2)
    }

    /// The whiskers come from same-iteration pairs, and only iterations both targets passed count.
    @Test func pairedRatiosUseOnlyIterationsBothPassed() throws {
        let report = BenchFixtures.compareReport(phases: [BenchFixtures.write],
                                                 values: ["native": [100, 100, 100, 100], "path:/x": [50, 400, nil, 200]])
        let ratio = try #require(CompareRatios.find(report, phase: "canonical.write", "path:/x", "native"))
        #expect(abs(ratio.pairedMin - 0.5) < 1e-9)
        #expect(abs(ratio.pairedMax - 4) < 1e-9)
        #expect(abs(ratio.value - 2) < 1e-9)   // median of 50, 400, 200 over median of 100s
        let measurement = try #require(report.measurement(phase: "canonical.write", target: "path:/x"))
        #expect(measurement.samples.count == 3)
        #expect(report.targets.first { $0.name == "path:/x" }?.status == .partial)
    }

    @Test func otherModeFilesGetASuffixBeforeTheExtension() {
        #expect(OtherModeRun.suffixed("bench/results/all.json", "-s3") == "bench/results/all-s3.json")
        #expect(OtherModeRun.suffixed("all.md", "-micro") == "all-micro.md")
        #expect(OtherModeRun.suffixed("/tmp/report", "-s3") == "/tmp/report-s3")
        #expect(OtherModeRun.suffixed("/tmp/.hidden", "-s3") == "/tmp/.hidden-s3")
        let micro = OtherModeRun(mode: "micro", quick: true, samples: nil, noCold: true, dir: "/d", keep: false,
                                 json: "r/all.json", markdown: "r/all.md", shardvault: "/bin/sv")
        #expect(micro.arguments == ["micro", "--quick", "--no-cold", "--dir", "/d", "--json", "r/all-micro.json"])
        var s3 = micro
        s3.mode = "s3"
        s3.samples = 2
        #expect(s3.arguments == ["s3", "--quick", "--samples", "2", "--no-cold", "--dir", "/d", "--json", "r/all-s3.json",
                                 "--markdown", "r/all-s3.md", "--shardvault", "/bin/sv"])
    }
}
