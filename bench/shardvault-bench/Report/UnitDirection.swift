import Foundation

/// Which way is better for a result's unit: throughputs and rates up, durations and costs down.
enum UnitDirection: String, Codable {
    case higherIsBetter, lowerIsBetter

    /// nil for a unit whose direction is unknown (the diff then reports changes without a verdict).
    static func of(unit: String) -> UnitDirection? {
        let unit = unit.trimmingCharacters(in: .whitespaces)
        // Rates: MB/s, GB/s, ops/s, obj/s, lists/s, files/s, entries/s, and IOPS.
        if unit.hasSuffix("/s") || unit == "IOPS" || unit == "x" || unit == "×" { return .higherIsBetter }
        // Durations, and what an operation costs (allocations, memory).
        if ["s", "ms", "us", "µs", "ns", "mallocs", "allocations", "B", "KiB", "MiB", "GiB", "bytes"].contains(unit) {
            return .lowerIsBetter
        }
        return nil
    }

    /// How many times better `value` is than `baseline` (>1: better), whatever the direction.
    func speedup(_ value: Double, over baseline: Double) -> Double {
        self == .higherIsBetter ? value / baseline : baseline / value
    }
}
