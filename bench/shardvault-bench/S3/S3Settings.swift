import ArgumentParser
import Foundation

/// How much `s3` measures. Every target gets exactly the same requests.
struct S3Settings: Codable {
    var quick: Bool
    /// Iterations; in each one every target is measured once, in rotating order.
    var samples: Int
    /// Object sizes whose PUT and GET throughput (one client, one object at a time) is measured.
    var sizes: [Int]
    /// Upper bound on the bytes one throughput sample moves; the object count is this ÷ size,
    /// between 1 and `maximumObjectsPerSample`.
    var bytesPerSample: Int
    var maximumObjectsPerSample: Int
    /// Size and client counts of the request-rate measurements (PUT, GET, HEAD).
    var opsObjectBytes = 4096
    var opsClients: [Int]
    /// Requests per rate sample, per client count.
    var opsPerSample: Int
    /// Keys in the listed prefix, and full listings per sample.
    var listKeys: Int
    var listsPerSample: Int

    static let full = S3Settings(quick: false, samples: 3, sizes: [4 << 10, 1 << 20, 64 << 20, 1 << 30],
                                 bytesPerSample: 128 << 20, maximumObjectsPerSample: 256,
                                 opsClients: [1, 16], opsPerSample: 400, listKeys: 1000, listsPerSample: 5)
    static let quickRun = S3Settings(quick: true, samples: 2, sizes: [4 << 10, 1 << 20, 16 << 20],
                                     bytesPerSample: 16 << 20, maximumObjectsPerSample: 64,
                                     opsClients: [1, 16], opsPerSample: 64, listKeys: 1000, listsPerSample: 2)

    func objectsPerSample(size: Int) -> Int {
        min(maximumObjectsPerSample, max(1, bytesPerSample / size))
    }

    /// Parses "4KiB,1MiB,64MiB,1GiB" (also K/M/G, KB/MB/GB meaning binary units, or plain bytes).
    static func parseSizes(_ text: String) throws -> [Int] {
        var sizes: [Int] = []
        for size in try text.split(separator: ",").map({ try parseSize(String($0)) }) where !sizes.contains(size) {
            sizes.append(size)
        }
        guard !sizes.isEmpty else { throw ValidationError("--sizes needs at least one size") }
        return sizes
    }

    static func parseSize(_ text: String) throws -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let digits = trimmed.prefix { $0.isNumber }
        var unit = trimmed.dropFirst(digits.count)
        if unit.hasSuffix("IB") { unit = unit.dropLast(2) } else if unit.hasSuffix("B") { unit = unit.dropLast() }
        let shifts: [Substring: Int] = ["": 0, "K": 10, "M": 20, "G": 30]
        guard let value = Int(digits), value > 0, let shift = shifts[unit] else {
            throw ValidationError("'\(text)' is not a size (examples: 4KiB, 1MiB, 64MiB, 1GiB)")
        }
        return value << shift
    }
}
