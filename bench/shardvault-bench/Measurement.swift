import Foundation
import SeededRandom

/// Monotonic nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// One timed run of many operations.
struct Sample {
    var operations: Int
    var bytes: Int
    var seconds: Double
    /// Decimal megabytes (10^6 bytes) per second.
    var megabytesPerSecond: Double { Double(bytes) / seconds / 1e6 }
    var operationsPerSecond: Double { Double(operations) / seconds }
}

/// When a sample stops: after `bytes` bytes or `seconds`, whichever comes first, but never
/// before `minimumOperations` nor after `maximumOperations`.
struct SampleTarget {
    var bytes: Int
    var seconds: Double
    var minimumOperations = 1
    var maximumOperations = Int.max
}

enum Sampler {
    /// Runs `operation(i)` for i = 0, 1, … until `target` is met, then `finish` (timed too:
    /// a deferred sync belongs to the writes it makes durable).
    static func run(bytesPerOperation: Int, target: SampleTarget,
                    operation: (Int) throws -> Void, finish: () throws -> Void = {}) rethrows -> Sample {
        let deadline = target.seconds.isFinite ? UInt64(target.seconds * 1e9) : .max
        let start = monotonicNanoseconds()
        var count = 0
        var bytes = 0
        while count < target.maximumOperations {
            try operation(count)
            count += 1
            bytes += bytesPerOperation
            if count >= target.minimumOperations
                && (bytes >= target.bytes || monotonicNanoseconds() - start >= deadline) { break }
        }
        try finish()
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        return Sample(operations: count, bytes: bytes, seconds: seconds)
    }

    /// Runs exactly `operations` operations, then `finish`, timed together.
    static func run(bytesPerOperation: Int, operations: Int,
                    operation: (Int) throws -> Void, finish: () throws -> Void = {}) rethrows -> Sample {
        try run(bytesPerOperation: bytesPerOperation,
                target: SampleTarget(bytes: .max, seconds: .infinity, minimumOperations: operations,
                                     maximumOperations: operations),
                operation: operation, finish: finish)
    }
}

/// A named measurement: several samples of one quantity, summarised by median, min and max.
struct Measurement: Codable {
    var name: String
    var unit: String
    var median: Double
    var min: Double
    var max: Double
    /// The value of every sample, in run order.
    var samples: [Double]
    var operationsPerSample: [Int]
    var bytesPerSample: [Int]
    var secondsPerSample: [Double]
    /// Median operations per second (objects per second for pool results).
    var operationsPerSecond: Double
    var note: String?

    init(name: String, samples runs: [Sample], note: String? = nil) {
        precondition(!runs.isEmpty, "\(name): no samples")
        let values = runs.map(\.megabytesPerSecond)
        self.name = name
        unit = "MB/s"
        median = Self.median(values)
        min = values.min()!
        max = values.max()!
        samples = values
        operationsPerSample = runs.map(\.operations)
        bytesPerSample = runs.map(\.bytes)
        secondsPerSample = runs.map(\.seconds)
        operationsPerSecond = Self.median(runs.map(\.operationsPerSecond))
        self.note = note
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// Pool throughput divided by ceiling throughput, from the medians of two measurements.
struct Ratio: Codable {
    var name: String
    var numerator: String
    var denominator: String
    var value: Double
    /// Ratio of each interleaved pair of samples (pool sample i / ceiling sample i).
    var pairedMin: Double
    var pairedMax: Double
    var goal: Double?
    var pass: Bool?
}

/// Page-aligned scratch memory owned by the bench, freed on deinit.
final class ScratchBuffer {
    let bytes: UnsafeMutableRawBufferPointer
    init(byteCount: Int) {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, byteCount), alignment: 4096)
        bytes = UnsafeMutableRawBufferPointer(start: raw, count: byteCount)
    }
    deinit { bytes.baseAddress?.deallocate() }
    var base: UnsafeMutableRawPointer { bytes.baseAddress! }
}

func sizeLabel(_ bytes: Int) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20)MiB" }
    if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10)KiB" }
    return "\(bytes)B"
}
