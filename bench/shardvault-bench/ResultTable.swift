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
        Swift.print(Self.row(measurement.name, Reporter.format(measurement.median), Reporter.format(measurement.min),
                             Reporter.format(measurement.max), measurement.unit, String(measurement.samples.count),
                             Reporter.format(measurement.operationsPerSecond)))
        fflush(nil)
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
