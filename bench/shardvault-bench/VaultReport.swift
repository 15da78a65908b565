import Foundation

/// Everything one `vault` run produced; the same top-level layout as `MicroReport` (schema in
/// bench/README.md), with the vault mode's own `configuration`.
struct VaultReport: CollectedReport {
    struct Configuration: Codable {
        var quick: Bool
        /// Samples per throughput measurement (sequential write/read, random I/O, lookups, readdir).
        var samples: Int
        var vaultGeometry: String
        var kdf: String
        /// Size of the sequentially written file, and of each write/read call on it.
        var fileBytes: Int
        var pieceBytes: Int
        /// Random I/O: size of one read or write, the seed of the offsets, how long a random
        /// read sample runs, and how many writes (plus one fsync) a random write sample makes.
        var randomIOBytes: Int
        var randomSeed: UInt64
        var randomReadSecondsPerSample: Double
        var randomWritesPerSample: Int
        /// Files of the vault on which creates, lookups and readdir are measured.
        var namespaceFiles: Int
        var filesPerDirectory: Int
        var readdirPageEntries: Int
        /// Vault sizes (files) whose open time and memory are measured.
        var openEntries: [Int]
        var openWarmSamples: Int
        var openColdSamples: Int
        /// "drop_caches" when cold reads were measured, otherwise why not.
        var coldCache: String
        var commitIntervalSeconds: Double
        var checkpointIntervalSegments: Int
        var chunkCacheBytes: Int
        var healsInBackground: Bool
        var blockBytes: Int
        var chunkBytes: Int
    }

    var tool = MicroReport.Tool()
    var mode = "vault"
    var startedAt: String
    var durationSeconds: Double = 0
    var host: HostInfo
    var configuration: Configuration
    var results: [Measurement] = []
    var ratios: [Ratio] = []
    var notes: [String] = []
}

extension Measurement {
    /// A measurement in any unit, one value per sample (`Measurement(name:samples:)` is MB/s only).
    init(name: String, unit: String, values: [Double], operations: [Int], bytes: [Int], seconds: [Double],
         note: String? = nil) {
        precondition(!values.isEmpty, "\(name): no samples")
        self.name = name
        self.unit = unit
        median = Self.median(values)
        min = values.min()!
        max = values.max()!
        samples = values
        operationsPerSample = operations
        bytesPerSample = bytes
        secondsPerSample = seconds
        operationsPerSecond = Self.median(zip(operations, seconds).map { Double($0) / $1 })
        self.note = note
    }

    /// Operations per second of each sample.
    init(name: String, rateOf runs: [Sample], unit: String = "ops/s", note: String? = nil) {
        self.init(name: name, unit: unit, values: runs.map(\.operationsPerSecond), operations: runs.map(\.operations),
                  bytes: runs.map(\.bytes), seconds: runs.map(\.seconds), note: note)
    }
}

/// Resident memory of a process, from /proc/PID/status.
struct ProcessMemory: Codable {
    /// VmRSS and VmHWM (peak resident), in bytes.
    var residentBytes: Int
    var peakResidentBytes: Int

    /// This process's (zeros when /proc cannot be read).
    static func current() -> ProcessMemory {
        read(process: "self") ?? ProcessMemory(residentBytes: 0, peakResidentBytes: 0)
    }

    /// Process `pid`'s, or nil when it cannot be read (gone, or no /proc).
    static func of(_ pid: Int32) -> ProcessMemory? {
        read(process: String(pid))
    }

    private static func read(process: String) -> ProcessMemory? {
        var memory = ProcessMemory(residentBytes: 0, peakResidentBytes: 0)
        guard let status = try? String(contentsOfFile: "/proc/\(process)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { continue }
            if fields[0] == "VmRSS:" { memory.residentBytes = kilobytes * 1024 }
            if fields[0] == "VmHWM:" { memory.peakResidentBytes = kilobytes * 1024 }
        }
        return memory
    }
}
