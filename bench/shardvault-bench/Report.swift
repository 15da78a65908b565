import Foundation

/// The machine a run happened on. The bench machine is shared, so the load average at the
/// start and end of the run is recorded next to the numbers.
struct HostInfo: Codable {
    var hostname: String
    var cores: Int
    var memoryBytes: Int
    var kernel: String
    var cpuModel: String?
    /// Filesystem type of the directory the pool and the ceiling files were written to.
    var filesystem: String
    var directory: String
    var loadAverageAtStart: String?
    var loadAverageAtEnd: String?

    static func probe(directory: String) -> HostInfo {
        var names = utsname()
        uname(&names)
        let kernel = withUnsafeBytes(of: &names.release) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
        let host = withUnsafeBytes(of: &names.nodename) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        return HostInfo(hostname: host, cores: sysconf(Int32(_SC_NPROCESSORS_ONLN)),
                        memoryBytes: sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE)),
                        kernel: kernel, cpuModel: cpu, filesystem: filesystemType(directory),
                        directory: directory, loadAverageAtStart: loadAverage(), loadAverageAtEnd: nil)
    }

    static func loadAverage() -> String? {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?
            .split(separator: " ").prefix(3).joined(separator: " ")
    }

    /// Type of the filesystem holding `path`: the longest mount point in /proc/mounts that
    /// prefixes its real path.
    static func filesystemType(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return "unknown" }
        let real = String(cString: resolved)
        free(resolved)
        guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return "unknown" }
        var best = (mountPoint: "", type: "unknown")
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let mountPoint = String(fields[1])
            let inside = real == mountPoint || real.hasPrefix(mountPoint == "/" ? "/" : mountPoint + "/")
            if inside && mountPoint.count >= best.mountPoint.count {
                best = (mountPoint, String(fields[2]) + " (" + String(fields[0]) + " on " + mountPoint + ")")
            }
        }
        return best.type
    }
}

/// Everything one `micro` run produced; written as JSON (schema in bench/README.md).
struct MicroReport: CollectedReport {
    struct Tool: Codable {
        var name = "shardvault-bench"
        var version = BenchVersion.string
        var schema = BenchVersion.schema
    }

    struct Configuration: Codable {
        var quick: Bool
        var samples: Int
        var ioTargetBytesPerSample: Int
        var ioTargetSecondsPerSample: Double
        var cpuTargetBytesPerSample: Int
        var cpuTargetSecondsPerSample: Double
        var objectSizes: [Int]
        var poolGeometry: String
        var stripeSize: Int
        /// "drop_caches" when cold reads were measured, otherwise why not.
        var coldCache: String
        var degradedVolumesOmitted: [Int]
    }

    var tool = Tool()
    var mode = "micro"
    var startedAt: String
    var durationSeconds: Double = 0
    var host: HostInfo
    var configuration: Configuration
    var results: [Measurement] = []
    var ratios: [Ratio] = []
    var notes: [String] = []
}

extension BenchReporter where Report == MicroReport {
    /// Adds pool/ceiling from the medians of two measurements taken in interleaved samples.
    func addRatio(_ name: String, numerator: String, denominator: String, goal: Double?) {
        guard let top = measurement(named: numerator), let bottom = measurement(named: denominator) else { return }
        let pairs = zip(top.samples, bottom.samples).map { $0 / $1 }
        let value = top.median / bottom.median
        report.ratios.append(Ratio(name: name, numerator: numerator, denominator: denominator, value: value,
                                   pairedMin: pairs.min() ?? value, pairedMax: pairs.max() ?? value,
                                   goal: goal, pass: goal.map { value >= $0 }))
    }

    func printRatios() {
        print("")
        var header = "ratio".rightPadded(44)
        header += "value".leftPadded(8)
        header += "  paired min-max  "
        header += "goal".leftPadded(6)
        header += "  verdict"
        print(header)
        print(String(repeating: "-", count: 90))
        for ratio in report.ratios {
            let verdict: String = ratio.pass.map { $0 ? "PASS" : "FAIL" } ?? "-"
            let goal: String = ratio.goal.map { String(format: "%6.2f", $0) } ?? "     -"
            var line = ratio.name.rightPadded(44)
            line += String(format: "%8.2f", ratio.value)
            line += String(format: "  %5.2f - %5.2f   ", ratio.pairedMin, ratio.pairedMax)
            line += goal
            line += "  " + verdict
            print(line)
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    func rightPadded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
