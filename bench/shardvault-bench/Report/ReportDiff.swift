import Foundation

/// Two JSON reports of the same mode, result by result: the medians, the change, and whether the
/// change is beyond what each run measured as its own spread (`shardvault-bench diff`).
struct ReportDiff {
    /// The part of any bench report the diff reads: every mode writes `mode` and `results`.
    struct Result: Decodable {
        var name: String
        var unit: String
        var median: Double
        var min: Double
        var max: Double
        var samples: [Double]?
        var sampleCount: Int { samples?.count ?? 1 }
    }

    /// The settings that make numbers comparable, as far as the modes record them.
    struct Configuration: Decodable, Equatable {
        var workload: String?
        var scale: String?
        var quick: Bool?
        var iterations: Int?
        var samples: Int?
    }

    struct Report: Decodable {
        var mode: String?
        var startedAt: String?
        var configuration: Configuration?
        var results: [Result]
    }

    enum Verdict: String {
        /// Beyond both spreads, in the better direction of the unit.
        case improved
        /// Beyond both spreads, in the worse direction.
        case regressed
        /// Beyond both spreads, for a unit of unknown direction.
        case changed
        /// Inside one run's min–max.
        case withinSpread = "within spread"
        /// One sample on each side: no spread to judge by.
        case noSpread = "no spread (n=1)"
    }

    struct Row {
        var name: String
        var unit: String
        var a: Result
        var b: Result
        /// (B − A) / A in percent; nil when A's median is 0.
        var changePercent: Double?
        var verdict: Verdict
    }

    var a: Report
    var b: Report
    var rows: [Row] = []
    var onlyInA: [String] = []
    var onlyInB: [String] = []
    /// Results whose unit differs between the files: not compared.
    var unitMismatches: [String] = []

    static func load(_ path: String) throws -> Report {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw BenchError.setup("cannot read \(path): \(error.localizedDescription)")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                        nan: "nan")
        do { return try decoder.decode(Report.self, from: data) } catch {
            throw BenchError.setup("\(path) is not a shardvault-bench JSON report with results: \(error)")
        }
    }

    init(a: Report, b: Report) {
        self.a = a
        self.b = b
        let bByName = Dictionary(b.results.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let aNames = Set(a.results.map(\.name))
        for left in a.results {
            guard let right = bByName[left.name] else { onlyInA.append(left.name); continue }
            guard left.unit == right.unit else { unitMismatches.append("\(left.name): \(left.unit) vs \(right.unit)"); continue }
            rows.append(Row(name: left.name, unit: left.unit, a: left, b: right,
                            changePercent: left.median == 0 ? nil : (right.median - left.median) / left.median * 100,
                            verdict: Self.classify(left, right)))
        }
        onlyInB = b.results.map(\.name).filter { !aNames.contains($0) }
    }

    /// Beyond spread: B's median outside A's min–max and A's median outside B's, with at least
    /// one side measured more than once; the unit decides whether that is better or worse.
    static func classify(_ a: Result, _ b: Result) -> Verdict {
        if a.sampleCount < 2 && b.sampleCount < 2 && a.min == a.max && b.min == b.max { return .noSpread }
        let bOutsideA = b.median < a.min || b.median > a.max
        let aOutsideB = a.median < b.min || a.median > b.max
        guard bOutsideA && aOutsideB else { return .withinSpread }
        guard let direction = UnitDirection.of(unit: a.unit) else { return .changed }
        let better = direction == .higherIsBetter ? b.median > a.median : b.median < a.median
        return better ? .improved : .regressed
    }

    var regressions: [Row] { rows.filter { $0.verdict == .regressed } }

    func table() -> TextTable {
        var table = TextTable(header: ["result", "unit", "median A (min–max)", "median B (min–max)", "change", "verdict"],
                              firstNumericColumn: 2)
        for row in rows {
            let change = row.changePercent.map { String(format: "%+.1f%%", $0) } ?? "-"
            let verdict = row.verdict == .regressed ? "REGRESSED" : row.verdict.rawValue
            table.rows.append([row.name, row.unit, Self.cell(row.a), Self.cell(row.b), change, verdict])
        }
        return table
    }

    static func cell(_ result: Result) -> String {
        let median = format(result.median)
        guard result.min != result.max else { return median }
        return "\(median) (\(format(result.min))–\(format(result.max)))"
    }

    /// As the result tables, but small values (a few ms in seconds) keep two significant digits.
    static func format(_ value: Double) -> String {
        value.isFinite && value != 0 && abs(value) < 0.1 ? String(format: "%.2g", value) : ResultTable.format(value)
    }

    var summary: String {
        let counts = [Verdict.regressed, .improved, .changed, .withinSpread, .noSpread].compactMap { verdict -> String? in
            let count = rows.filter { $0.verdict == verdict }.count
            return count == 0 ? nil : "\(count) \(verdict.rawValue)"
        }
        return "\(rows.count) result(s) in both" + (counts.isEmpty ? "" : ": " + counts.joined(separator: ", "))
    }

    func plain(pathA: String, pathB: String) -> String {
        var lines = ["A: \(pathA) (\(a.startedAt ?? "?"))", "B: \(pathB) (\(b.startedAt ?? "?"))", ""]
        if !rows.isEmpty { lines.append(table().plain()); lines.append("") }
        lines.append(summary)
        lines.append(contentsOf: extraLines())
        return lines.joined(separator: "\n")
    }

    func markdown(pathA: String, pathB: String) -> String {
        var lines = ["## diff of two \(a.mode ?? "bench") reports", "",
                     "- A: `\(pathA)` (\(a.startedAt ?? "?"))", "- B: `\(pathB)` (\(b.startedAt ?? "?"))", "",
                     "Change is (B − A) / A of the medians. A verdict needs B's median outside A's min–max and A's "
                        + "outside B's; MB/s, ops/s and other rates are better higher, s, ms, ns and mallocs lower.", ""]
        if !rows.isEmpty { lines.append(table().markdown()); lines.append("") }
        lines.append(summary + ".")
        for line in extraLines() { lines.append("- " + line) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// "scale tiny vs full", … for every recorded setting the two runs differ in.
    var configurationDifferences: [String] {
        guard let left = a.configuration, let right = b.configuration else { return [] }
        func describe<Value>(_ name: String, _ path: KeyPath<Configuration, Value?>) -> String? {
            let x = left[keyPath: path].map { "\($0)" }, y = right[keyPath: path].map { "\($0)" }
            guard let x, let y, x != y else { return nil }
            return "\(name) \(x) vs \(y)"
        }
        return [describe("workload", \.workload), describe("scale", \.scale), describe("quick", \.quick),
                describe("iterations", \.iterations), describe("samples", \.samples)].compactMap { $0 }
    }

    private func extraLines() -> [String] {
        var lines: [String] = []
        let differences = configurationDifferences
        if !differences.isEmpty { lines.append("the runs were configured differently: " + differences.joined(separator: ", ")) }
        if !onlyInA.isEmpty { lines.append("only in A: " + onlyInA.joined(separator: ", ")) }
        if !onlyInB.isEmpty { lines.append("only in B: " + onlyInB.joined(separator: ", ")) }
        if !unitMismatches.isEmpty { lines.append("not compared (units differ): " + unitMismatches.joined(separator: "; ")) }
        return lines
    }
}
