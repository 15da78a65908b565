import Foundation

/// Everything one `s3` run produced; the same top-level layout as the other modes (schema in
/// bench/README.md), with the s3 mode's own `configuration` and `targets`.
struct S3Report: CollectedReport {
    struct Target: Codable {
        var name: S3TargetKind
        /// "measured", "skipped: why" or "failed: what".
        var status: String
        var description: String?
    }

    struct Configuration: Codable {
        var settings: S3Settings
        /// Objects per throughput sample, by size label.
        var objectsPerSample: [String: Int]
        var command: String
        var client: String
        var clientVersions: [String: String]
    }

    var tool = MicroReport.Tool()
    var mode = "s3"
    var startedAt: String
    var durationSeconds: Double = 0
    var host: HostInfo
    var configuration: Configuration
    var targets: [Target] = []
    var results: [Measurement] = []
    var ratios: [Ratio] = []
    var notes: [String] = []
}

/// Result names: `TARGET.OP.SIZE` for throughput (MB/s), `TARGET.OP.SIZE.cN` for request
/// rates with N clients (ops/s), `TARGET.list.NkeysK` for listings (lists/s).
enum S3ResultName {
    static func throughput(_ target: S3TargetKind, _ operation: String, _ size: Int) -> String {
        "\(target.rawValue).\(operation).\(humanBytes(size))"
    }

    static func rate(_ target: S3TargetKind, _ operation: String, _ size: Int, clients: Int) -> String {
        "\(target.rawValue).\(operation).\(humanBytes(size)).c\(clients)"
    }

    static func list(_ target: S3TargetKind, keys: Int) -> String {
        "\(target.rawValue).list.\(keys)keys"
    }

    /// The name without its target prefix ("put.1MiB" for "shardvault.put.1MiB").
    static func operation(of name: String) -> String {
        String(name.drop { $0 != "." }.dropFirst())
    }
}

extension BenchReporter where Report == S3Report {
    /// numerator ÷ denominator from the medians, with the range of the per-iteration ratios
    /// (iteration i of both was taken back to back, so both saw the same machine load).
    func addS3Ratio(numerator: String, denominator: String, label: String, goal: Double?) {
        guard let top = measurement(named: numerator), let bottom = measurement(named: denominator) else { return }
        let pairs = zip(top.samples, bottom.samples).map { $0 / $1 }
        let value = top.median / bottom.median
        report.ratios.append(Ratio(name: label, numerator: numerator, denominator: denominator, value: value,
                                   pairedMin: pairs.min() ?? value, pairedMax: pairs.max() ?? value,
                                   goal: goal, pass: goal.map { value >= $0 }))
    }

    /// ShardVault ÷ JuiceFS gateway for every ShardVault result (goal `goal`), and
    /// ShardVault ÷ nginx for every GET nginx served too (a ceiling, no goal).
    func addS3Ratios(goal: Double) {
        for result in report.results where result.name.hasPrefix(S3TargetKind.shardvault.rawValue + ".") {
            let operation = S3ResultName.operation(of: result.name)
            addS3Ratio(numerator: result.name, denominator: "\(S3TargetKind.juicefs.rawValue).\(operation)",
                       label: "\(operation) ShardVault/JuiceFS", goal: goal)
            addS3Ratio(numerator: result.name, denominator: "\(S3TargetKind.nginx.rawValue).\(operation)",
                       label: "\(operation) ShardVault/nginx", goal: nil)
        }
    }

    func printS3Ratios() {
        guard !report.ratios.isEmpty else { return }
        print("")
        print("ratio".rightPadded(40) + "value".leftPadded(8) + "  per-iteration min-max" + "goal".leftPadded(7) + "  verdict")
        print(String(repeating: "-", count: 92))
        for ratio in report.ratios {
            var line = ratio.name.rightPadded(40)
            line += String(format: "%8.2f", ratio.value)
            line += String(format: "     %6.2f - %6.2f    ", ratio.pairedMin, ratio.pairedMax)
            line += ratio.goal.map { String(format: "%5.2f", $0) } ?? "    -"
            line += "  " + (ratio.pass.map { $0 ? "PASS" : "FAIL" } ?? "-")
            print(line)
        }
    }
}
