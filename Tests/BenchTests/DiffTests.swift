import Foundation
import Testing
@testable import shardvault_bench

/// `shardvault-bench diff`: which changes count, which way, and what is listed.
@Suite struct DiffTests {
    typealias R = BenchFixtures

    @Test func classificationNeedsBothSpreadsAndFollowsTheUnit() {
        // Each median inside the other's range: within.
        #expect(ReportDiff.classify(R.result("a", "MB/s", [90, 100, 110]), R.result("a", "MB/s", [95, 105, 115])) == .withinSpread)
        // Ranges overlap but each median lies outside the other's range: that counts.
        #expect(ReportDiff.classify(R.result("a", "MB/s", [90, 100, 110]), R.result("a", "MB/s", [105, 115, 125])) == .improved)
        // B's median outside A's range but A's median inside B's: still within.
        #expect(ReportDiff.classify(R.result("a", "MB/s", [99, 100, 101]), R.result("a", "MB/s", [50, 120, 130])) == .withinSpread)
        // Beyond both: a throughput that rose improved, one that fell regressed.
        #expect(ReportDiff.classify(R.result("a", "MB/s", [90, 100, 110]), R.result("a", "MB/s", [150, 160, 170])) == .improved)
        #expect(ReportDiff.classify(R.result("a", "ops/s", [90, 100, 110]), R.result("a", "ops/s", [50, 60, 70])) == .regressed)
        // Durations: longer is worse.
        #expect(ReportDiff.classify(R.result("a", "s", [1, 1.1, 1.2]), R.result("a", "s", [2, 2.1, 2.2])) == .regressed)
        #expect(ReportDiff.classify(R.result("a", "ns", [10, 11]), R.result("a", "ns", [5, 6])) == .improved)
        #expect(ReportDiff.classify(R.result("a", "mallocs", [0, 0]), R.result("a", "mallocs", [3, 3])) == .regressed)
        // Unknown unit: changed, no verdict.
        #expect(ReportDiff.classify(R.result("a", "widgets", [1, 1.1]), R.result("a", "widgets", [5, 5.1])) == .changed)
        // One sample each: no spread to judge by.
        #expect(ReportDiff.classify(R.result("a", "MB/s", [100]), R.result("a", "MB/s", [10])) == .noSpread)
        // One side measured several times is enough.
        #expect(ReportDiff.classify(R.result("a", "MB/s", [100]), R.result("a", "MB/s", [10, 12, 14])) == .regressed)
    }

    @Test func rowsListsAndOutputs() throws {
        let a = ReportDiff.Report(mode: "compare", startedAt: "A", results: [
            R.result("canonical.write.native", "MB/s", [90, 100, 110]),
            R.result("canonical.untar.native", "s", [1, 1.1, 1.2]),
            R.result("gone", "s", [1]),
            R.result("unit", "s", [1]),
        ])
        let b = ReportDiff.Report(mode: "compare", startedAt: "B", results: [
            R.result("canonical.write.native", "MB/s", [40, 50, 60]),
            R.result("canonical.untar.native", "s", [1.05, 1.15]),
            R.result("new", "ms", [3]),
            R.result("unit", "ms", [1]),
        ])
        let diff = ReportDiff(a: a, b: b)
        #expect(diff.rows.map(\.name) == ["canonical.write.native", "canonical.untar.native"])
        #expect(diff.rows.map(\.verdict) == [.regressed, .withinSpread])
        #expect(diff.rows[0].changePercent == -50)
        #expect(diff.onlyInA == ["gone"])
        #expect(diff.onlyInB == ["new"])
        #expect(diff.unitMismatches == ["unit: s vs ms"])
        #expect(diff.regressions.map(\.name) == ["canonical.write.native"])

        let plain = diff.plain(pathA: "a.json", pathB: "b.json")
        #expect(plain.contains("REGRESSED"))
        #expect(plain.contains("-50.0%"))
        #expect(plain.contains("only in A: gone"))
        #expect(plain.contains("only in B: new"))
        let markdown = diff.markdown(pathA: "a.json", pathB: "b.json")
        #expect(markdown.contains("| result | unit | median A (min–max) | median B (min–max) | change | verdict |"))
        #expect(markdown.contains("| canonical.write.native | MB/s | 100 (90.0–110) | 50.0 (40.0–60.0) | -50.0% | REGRESSED |"))
        #expect(markdown.contains("2 result(s) in both: 1 regressed, 1 within spread."))
    }

    @Test func smallValuesKeepTheirDigitsAndDifferentSettingsAreNamed() throws {
        #expect(ReportDiff.format(0.0042) == "0.0042")
        #expect(ReportDiff.format(0.25) == "0.25")
        #expect(ReportDiff.format(1234) == "1234")
        var a = ReportDiff.Report(mode: "compare", results: [R.result("x", "s", [0.004, 0.005])])
        var b = a
        a.configuration = .init(workload: "canonical", scale: "tiny", iterations: 3)
        b.configuration = .init(workload: "canonical", scale: "full", iterations: 3)
        let diff = ReportDiff(a: a, b: b)
        #expect(diff.configurationDifferences == ["scale tiny vs full"])
        #expect(diff.plain(pathA: "a", pathB: "b").contains("the runs were configured differently: scale tiny vs full"))
        #expect(diff.plain(pathA: "a", pathB: "b").contains("0.0045 (0.004–0.005)"))
    }

    @Test func readsAnyReportWithResultsAndRefusesOthers() throws {
        let micro = """
            {"mode": "micro", "startedAt": "x", "results": [
              {"name": "pool.get.warm.4KiB", "unit": "MB/s", "median": 10, "min": 9, "max": "inf", "samples": [9, 10, "inf"]}
            ], "ratios": []}
            """
        let path = R.temporaryPath("micro.json")
        try micro.write(toFile: path, atomically: true, encoding: .utf8)
        let report = try ReportDiff.load(path)
        #expect(report.mode == "micro")
        #expect(report.results.first?.max == .infinity)
        #expect(report.results.first?.sampleCount == 3)

        let notAReport = R.temporaryPath("other.json")
        try "{\"name\": 1}".write(toFile: notAReport, atomically: true, encoding: .utf8)
        #expect(throws: BenchError.self) { try ReportDiff.load(notAReport) }
        #expect(throws: BenchError.self) { try ReportDiff.load(R.temporaryPath("missing.json")) }
    }
}
