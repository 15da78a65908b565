import Foundation

/// Prints measurements as aligned rows as they are taken, with the header before the first.
struct ResultTable {
    /// Heading of the last column (obj/s, ops/s).
    let rateLabel: String
    private var printedHeader = false

    init(rateLabel: String) { self.rateLabel = rateLabel }

    mutating func print(_ measurement: Measurement) {
        if !printedHeader {
            printedHeader = true
            Swift.print(Self.row("result", "median", "min", "max", "unit", "n", rateLabel))
            Swift.print(String(repeating: "-", count: 104))
        }
        Swift.print(Self.row(measurement.name, Self.format(measurement.median), Self.format(measurement.min),
                             Self.format(measurement.max), measurement.unit, String(measurement.samples.count),
                             Self.format(measurement.operationsPerSecond)))
        fflush(nil)
    }

    static func format(_ value: Double) -> String {
        if !value.isFinite { return String(value) }
        if value >= 100 { return String(format: "%.0f", value) }
        if value >= 10 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }

    private static func row(_ name: String, _ median: String, _ low: String, _ high: String, _ unit: String,
                            _ count: String, _ rate: String) -> String {
        var line = name.rightPadded(44)
        line += median.leftPadded(11)
        line += low.leftPadded(11)
        line += high.leftPadded(11)
        line += "  " + unit.rightPadded(9)
        line += count.leftPadded(4)
        line += rate.leftPadded(13)
        return line
    }
}

/// Writes a report as the JSON documented in bench/README.md (non-finite numbers as strings).
func writeReportJSON(_ report: some Encodable, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    try encoder.encode(report).write(to: URL(fileURLWithPath: path), options: .atomic)
}

/// A report whose results and notes `BenchReporter` collects.
protocol CollectedReport: Codable {
    var results: [Measurement] { get set }
    var notes: [String] { get set }
}

/// Collects results into a report, echoing each as a table row when it is taken.
final class BenchReporter<Report: CollectedReport> {
    var report: Report
    private var table: ResultTable

    init(report: Report, rateLabel: String) {
        self.report = report
        table = ResultTable(rateLabel: rateLabel)
    }

    @discardableResult
    func add(_ measurement: Measurement) -> Measurement {
        report.results.append(measurement)
        table.print(measurement)
        return measurement
    }

    func measurement(named name: String) -> Measurement? { report.results.first { $0.name == name } }

    func note(_ text: String) {
        report.notes.append(text)
        print("note: " + text)
        fflush(nil)
    }

    func writeJSON(to path: String) throws {
        try writeReportJSON(report, to: path)
    }
}

typealias Reporter = BenchReporter<MicroReport>
typealias VaultReporter = BenchReporter<VaultReport>
