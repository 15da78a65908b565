import Foundation

/// The `--markdown` file: the run's conditions and one comparison table per kind of result
/// (targets side by side, medians with min–max, ratios), ready to paste into docs/BENCHMARKS.md.
enum S3Markdown {
    static func render(_ report: S3Report) -> String {
        var lines: [String] = []
        let host = report.host
        lines.append("Command: `\(report.configuration.command)`")
        lines.append("")
        lines.append("- started \(report.startedAt), \(String(format: "%.0f", report.durationSeconds)) s; host \(host.hostname), "
                     + "\(host.cores) cores (\(host.cpuModel ?? "unknown CPU")), \(host.memoryBytes >> 30) GiB, kernel \(host.kernel); "
                     + "\(host.filesystem)")
        lines.append("- load average at start \(host.loadAverageAtStart ?? "?"), at end \(host.loadAverageAtEnd ?? "?")")
        let versions = report.configuration.clientVersions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        lines.append("- client: \(report.configuration.client) (\(versions.joined(separator: ", ")))")
        lines.append("- \(report.configuration.settings.samples) iterations; median (min–max) over them; ratios are of medians, "
                     + "with the range of per-iteration ratios in brackets")
        for target in report.targets {
            lines.append("- \(target.name.title): \(target.status)\(target.description.map { " — " + $0 } ?? "")")
        }

        let keys = operationKeys(report)
        let throughput = keys.filter { $0.split(separator: ".").count == 2 && !$0.hasPrefix("list.") }
        let rates = keys.filter { $0.split(separator: ".").count == 3 }
        let listings = keys.filter { $0.hasPrefix("list.") }
        if !throughput.isEmpty {
            lines.append("")
            lines.append(contentsOf: table(report, keys: throughput, unit: "MB/s", heading: ["object", "request"]) { key in
                let parts = key.split(separator: ".")
                return [String(parts[1]), parts[0].uppercased()]
            })
        }
        if !rates.isEmpty {
            lines.append("")
            lines.append(contentsOf: table(report, keys: rates, unit: "ops/s", heading: ["request", "clients"]) { key in
                let parts = key.split(separator: ".")
                return ["\(parts[0].uppercased()) \(parts[1])", String(parts[2].dropFirst())]
            })
        }
        if !listings.isEmpty {
            lines.append("")
            lines.append(contentsOf: table(report, keys: listings, unit: "lists/s", heading: ["request"]) { key in
                ["LIST \(key.split(separator: ".")[1].replacingOccurrences(of: "keys", with: " keys"))"]
            })
        }
        if !report.notes.isEmpty {
            lines.append("")
            lines.append(contentsOf: report.notes.map { "- note: " + $0.replacingOccurrences(of: "\n", with: " ") })
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Operation keys ("put.1MiB", "get.4KiB.c16", "list.1000keys") in result order.
    private static func operationKeys(_ report: S3Report) -> [String] {
        var keys: [String] = []
        for result in report.results {
            let key = S3ResultName.operation(of: result.name)
            if !keys.contains(key) { keys.append(key) }
        }
        return keys
    }

    private static func table(_ report: S3Report, keys: [String], unit: String, heading: [String],
                              label: (String) -> [String]) -> [String] {
        let targets = S3TargetKind.allCases.filter { target in
            keys.contains { key in report.results.contains { $0.name == "\(target.rawValue).\(key)" } }
        }
        var header = heading + targets.map { "\($0.title) \(unit)" }
        let ratioTargets = targets.filter { $0 != .shardvault }
        if targets.contains(.shardvault) { header += ratioTargets.map { "ShardVault ÷ \($0.title)" } }
        var lines = ["| " + header.joined(separator: " | ") + " |",
                     "|" + header.map { _ in "---|" }.joined()]
        for key in keys {
            var cells = label(key)
            for target in targets {
                let result = report.results.first { $0.name == "\(target.rawValue).\(key)" }
                cells.append(result.map { "\(format($0.median)) (\(format($0.min))–\(format($0.max)))" } ?? "—")
            }
            if targets.contains(.shardvault) {
                for target in ratioTargets {
                    let ratio = report.ratios.first {
                        $0.numerator == "shardvault.\(key)" && $0.denominator == "\(target.rawValue).\(key)"
                    }
                    cells.append(ratio.map { ratio in
                        let verdict = ratio.pass.map { $0 ? " ✓" : " ✗" } ?? ""
                        return String(format: "%.2f (%.2f–%.2f)", ratio.value, ratio.pairedMin, ratio.pairedMax) + verdict
                    } ?? "—")
                }
            }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines
    }

    private static func format(_ value: Double) -> String { ResultTable.format(value) }
}
