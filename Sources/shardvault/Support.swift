import ArgumentParser
import Foundation
import VolumePool

/// Exit statuses, documented in docs/CLI.md.
enum ExitStatus {
    static let success: Int32 = 0
    /// `scrub` found damage, or `heal` left something unrepaired.
    static let damaged: Int32 = 1
    /// The operation failed (a PoolError, an I/O error, a missing object…).
    static let failed: Int32 = 2
    /// The command line is wrong (EX_USAGE).
    static let usage: Int32 = 64
}

/// A failure the CLI itself diagnoses, with the status it exits with.
struct CLIFailure: Error {
    var message: String
    var exitCode: Int32

    static func usage(_ message: String) -> CLIFailure { CLIFailure(message: message, exitCode: ExitStatus.usage) }
    static func failed(_ message: String) -> CLIFailure { CLIFailure(message: message, exitCode: ExitStatus.failed) }
}

enum Output {
    /// `shardvault: <message>` on stderr.
    static func error(_ message: String) {
        standardError("shardvault: " + message)
    }

    /// `shardvault: note: <message>` on stderr (stdout may be carrying object bytes).
    static func note(_ message: String) {
        standardError("shardvault: note: " + message)
    }

    static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// 1536 → "1.5 KiB"; exact byte counts are printed next to it where they matter.
    static func bytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Pads `columns` into aligned text rows.
    static func table(_ rows: [[String]]) -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// The volume directories every command ends with.
struct VolumeArguments: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "The pool's volume directories, in any order; missing ones may be left out (at least k are needed).",
        valueName: "volume"))
    var volumes: [String]

    func validate() throws {
        guard !volumes.isEmpty else {
            throw ValidationError("no volumes given: list the pool's volume directories (VOLUME...) as the last arguments")
        }
    }

    /// Opens the pool for a one-shot command: no background healer (the process exits soon),
    /// so objects a degraded read queues are left for `shardvault heal`.
    static func openPool(paths: [String]) throws -> VolumePool {
        var options = VolumePool.Options()
        options.healsInBackground = false
        return try VolumePool.open(volumePaths: paths, options: options)
    }

    /// Opens the pool at `paths`, runs `body`, and closes the pool whatever happens.
    static func withPool<T>(paths: [String], _ body: (VolumePool) throws -> T) throws -> T {
        let pool = try openPool(paths: paths)
        defer { pool.close() }
        return try body(pool)
    }

    /// Opens the pool on the given volumes, runs `body`, and closes the pool whatever happens.
    func withPool<T>(_ body: (VolumePool) throws -> T) throws -> T {
        try Self.withPool(paths: volumes, body)
    }

    /// Given paths that did not become a volume of the pool, with the likely reason.
    func unrecognisedPaths(of pool: VolumePool) -> [(path: String, reason: String)] {
        let used = Set(pool.volumeStatus().compactMap { $0.location.map(Self.canonical) })
        return volumes.filter { !used.contains(Self.canonical($0)) }.map { path in
            (path, Self.whyNotAVolume(path))
        }
    }

    private static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
    }

    private static func whyNotAVolume(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "does not exist" }
        guard isDirectory.boolValue else { return "is not a directory" }
        let format = URL(fileURLWithPath: path).appendingPathComponent(VolumeFormat.fileName).path
        guard FileManager.default.fileExists(atPath: format) else {
            return "has no \(VolumeFormat.fileName) (not a volume; give it to `pool replace` to make it one)"
        }
        return "its \(VolumeFormat.fileName) is unreadable or damaged"
    }
}

enum Parse {
    /// A 128-bit object id: exactly 32 hex digits.
    static func objectID(_ text: String) throws -> ObjectID {
        let isHex = text.utf8.allSatisfy { (0x30 ... 0x39).contains($0) || (0x41 ... 0x46).contains($0) || (0x61 ... 0x66).contains($0) }
        guard isHex, text.utf8.count == 32, let id = ObjectID(hex: text) else {
            throw CLIFailure.usage("invalid object id '\(text)': expected 32 hex digits, like \(ObjectID(high: 0x0123456789abcdef, low: 0xfedcba9876543210))")
        }
        return id
    }

    /// `START-END` (both inclusive, like HTTP Range and `curl -r`) or `START-` (to the end).
    /// Returns the start and the exclusive end, nil for "to the end".
    static func byteRange(_ text: String) throws -> (start: Int, end: Int?) {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        func fail(_ why: String) -> CLIFailure {
            .usage("invalid range '\(text)': \(why); use START-END (inclusive byte offsets, e.g. 0-1023) or START-")
        }
        guard parts.count == 2 else { throw fail("no '-'") }
        guard let start = Int(parts[0]), start >= 0, parts[0].allSatisfy(\.isASCIIDigitCharacter) else {
            throw fail("START must be a non-negative integer")
        }
        if parts[1].isEmpty { return (start, nil) }
        guard parts[1].allSatisfy(\.isASCIIDigitCharacter), let last = Int(parts[1]) else {
            throw fail("END must be a non-negative integer")
        }
        guard last >= start else { throw fail("END is before START") }
        guard last < Int.max else { throw fail("END is too large") }
        return (start, last + 1)
    }

    /// A byte count with an optional binary suffix: 65536, 64K, 64KiB, 1M, 1MiB.
    static func byteCount(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30),
                                      ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("B", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy(\.isASCIIDigitCharacter), let value = Int(number) else { return nil }
            let (product, overflow) = value.multipliedReportingOverflow(by: factor)
            return overflow ? nil : product
        }
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigitCharacter) else { return nil }
        return Int(text)
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}

extension VolumeStatus.State {
    var isOnline: Bool { if case .online = self { true } else { false } }
    var problem: String? { if case let .missing(reason) = self { reason } else { nil } }
}
