import Foundation

/// A table of text cells rendered either as aligned plain text (terminal) or as Markdown.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []
    /// Columns from this index on are right-aligned (numbers).
    var firstNumericColumn = 1

    func plain() -> String {
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                column < firstNumericColumn ? cell.rightPadded(widths[column]) : cell.leftPadded(widths[column])
            }.joined(separator: "  ")
        }
        let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }

    func markdown() -> String {
        let align = header.indices.map { $0 < firstNumericColumn ? "---" : "---:" }
        return ([header, align] + rows).map { "| " + $0.joined(separator: " | ") + " |" }.joined(separator: "\n")
    }
}

/// The three views of a compare run: medians per target, speed vs native, ShardVault vs each peer.
enum CompareTables {
    static func medians(_ report: CompareReport) -> TextTable {
        let targets = report.measuredTargets
        var table = TextTable(header: ["phase", "unit"] + targets, firstNumericColumn: 2)
        for phase in report.configuration.phases {
            table.rows.append([phase.title, phase.unit.rawValue] + targets.map { target in
                guard let measurement = report.measurement(phase: phase.name, target: target) else { return "-" }
                return cell(measurement)
            })
        }
        // Not a phase (no ratios): the time daemons need after the workload, deferred work included.
        table.rows.append(["unmount (until exit)", "s"] + targets.map { target in
            let seconds = report.runs.filter { $0.target == target && $0.iteration > 0 && $0.failure == nil }.map(\.unmountSeconds)
            return seconds.allSatisfy({ $0 < 0.005 }) ? "-" : cell(values: seconds)
        })
        // How many iterations the numbers come from: a failed run gives none.
        table.rows.append(["iterations passed", ""] + targets.map { target in
            guard let status = report.targets.first(where: { $0.name == target }),
                  let passed = status.passedIterations, let ran = status.ranIterations else { return "-" }
            return "\(passed)/\(ran)"
        })
        return table
    }

    /// "12.3 (11.9–13.0)", or the bare median for a single iteration.
    static func cell(_ measurement: Measurement) -> String { cell(values: measurement.samples) }

    static func cell(values: [Double]) -> String {
        guard let low = values.min(), let high = values.max() else { return "-" }
        let median = ResultTable.format(Measurement.median(values))
        guard values.count > 1 else { return median }
        return "\(median) (\(ResultTable.format(low))–\(ResultTable.format(high)))"
    }

    static func ratioCell(_ ratio: Ratio?) -> String {
        guard let ratio else { return "-" }
        let value = String(format: "%.2f×", ratio.value)
        guard ratio.pairedMin != ratio.pairedMax else { return value }
        return value + String(format: " (%.2f–%.2f)", ratio.pairedMin, ratio.pairedMax)
    }

    /// Each target's speed as a multiple of native's (1.00× = as fast as the bare disk).
    static func versusNative(_ report: CompareReport) -> TextTable? {
        let targets = report.measuredTargets.filter { $0 != "native" }
        guard report.measuredTargets.contains("native"), !targets.isEmpty else { return nil }
        var table = TextTable(header: ["phase"] + targets)
        for phase in report.configuration.phases {
            table.rows.append([phase.title] + targets.map {
                ratioCell(CompareRatios.find(report, phase: phase.name, $0, "native"))
            })
        }
        return table
    }

    /// A ShardVault variant's speed as a multiple of each peer's (>1×: ShardVault is faster);
    /// one table per variant.
    static func shardvaultVersusPeers(_ report: CompareReport) -> [(variant: String, table: TextTable)] {
        let peers = report.measuredTargets.filter { !CompareRatios.isShardVault($0) && $0 != "native" }
        guard !peers.isEmpty else { return [] }
        return report.measuredTargets.filter(CompareRatios.isShardVault).map { variant in
            var table = TextTable(header: ["phase"] + peers.map { "vs " + $0 })
            for phase in report.configuration.phases {
                table.rows.append([phase.title] + peers.map {
                    ratioCell(CompareRatios.find(report, phase: phase.name, variant, $0))
                })
            }
            return (variant, table)
        }
    }

    /// Skipped targets and failures, one line each (a failed warm-up alone leaves a target measured).
    static func targetLines(_ report: CompareReport) -> [String] {
        report.targets.compactMap { target in
            switch target.status {
            case .measured: return target.reason.map { "\(target.name): \($0)" }
            case .skipped: return "skipped \(target.name): \(target.reason ?? "")"
            case .partial:
                let failed = (target.ranIterations ?? 0) - (target.passedIterations ?? 0)
                guard failed > 0 else { return "FAILED \(target.name) (no numbers for those workloads): \(target.reason ?? "")" }
                return "FAILED \(target.name) in \(failed) of \(target.ranIterations ?? 0) iterations "
                    + "(its numbers are from the others): \(target.reason ?? "")"
            case .failed:
                return "FAILED \(target.name) in every iteration (no numbers): \(target.reason ?? "")"
            }
        }
    }

    static func printAll(_ report: CompareReport) {
        let iterations = report.configuration.iterations
        print("")
        print("medians (min–max) over \(iterations) iteration\(iterations == 1 ? "" : "s"); MB/s: higher is better, s: lower is better")
        print(medians(report).plain())
        if let table = versusNative(report) {
            print("")
            print("speed relative to native (>1× faster than the bare disk; min–max over paired iterations)")
            print(table.plain())
        }
        for (variant, table) in shardvaultVersusPeers(report) {
            print("")
            print("\(variant)'s speed relative to each peer (>1×: \(variant) faster)")
            print(table.plain())
        }
        let lines = targetLines(report)
        if !lines.isEmpty {
            print("")
            lines.forEach { print($0) }
        }
    }

    /// The Markdown report (`--markdown FILE`): conditions, the exact command, the three tables.
    static func markdown(_ report: CompareReport) -> String {
        let host = report.host
        let configuration = report.configuration
        var lines: [String] = []
        lines.append("## compare (\(configuration.workload) workload), \(configuration.scale) scale")
        lines.append("")
        lines.append("| | |")
        lines.append("|---|---|")
        lines.append("| date | \(report.startedAt) (\(String(format: "%.0f", report.durationSeconds)) s) |")
        lines.append("| host | \(host.hostname): \(host.cores) cores, \(host.memoryBytes >> 30) GiB, kernel \(host.kernel), \(host.cpuModel ?? "unknown CPU") |")
        lines.append("| disk | \(host.filesystem) |")
        lines.append("| load average | \(host.loadAverageAtStart ?? "?") at the start, \(host.loadAverageAtEnd ?? "?") at the end |")
        lines.append("| command | `\(configuration.command)` |")
        lines.append("| iterations | \(configuration.iterations)\(configuration.warmup ? " (after one untimed tiny-scale warm-up per target)" : ""), targets interleaved, order rotated each iteration |")
        if let subset = configuration.kernelSubset {
            lines.append("| tree | \(subset.summary); tarball \(String(format: "%.0f MB", Double(subset.tarBytes) / 1e6)) |")
        }
        lines.append("| stream file | \(humanBytes(configuration.streamBytes)), 1 MiB calls; cold read: \(configuration.coldCache) |")
        lines.append("")
        for target in report.targets where target.status != .skipped {
            lines.append("- `\(target.name)`: \(target.description ?? "")")
        }
        lines.append("")
        lines.append("Medians (min–max) over \(configuration.iterations) iterations; MB/s: higher is better, s: lower is better.")
        lines.append("")
        lines.append(medians(report).markdown())
        if let table = versusNative(report) {
            lines.append("")
            lines.append("Speed relative to native (>1× faster than the bare disk; min–max over paired iterations):")
            lines.append("")
            lines.append(table.markdown())
        }
        for (variant, table) in shardvaultVersusPeers(report) {
            lines.append("")
            lines.append("`\(variant)`'s speed relative to each peer (>1×: `\(variant)` faster):")
            lines.append("")
            lines.append(table.markdown())
        }
        let targetNotes = targetLines(report)
        if !targetNotes.isEmpty || !report.notes.isEmpty {
            lines.append("")
            (targetNotes + report.notes).forEach { lines.append("- " + $0) }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
