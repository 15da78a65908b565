import ArgumentParser
import Foundation

/// The options every bench mode shares: where to work, how long, and where the JSON goes.
struct BenchRunOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Also write the results as JSON to this file.", valueName: "file"))
    var json: String?

    @Option(name: .long, help: ArgumentHelp("Directory to work in (default: $TMPDIR or /tmp).", valueName: "dir"))
    var dir: String?

    @Flag(name: .long, help: "Short run (seconds), for smoke tests; the numbers are rough.")
    var quick = false

    @Option(name: .long, help: "Samples per measurement (defaults depend on the mode and on --quick).")
    var samples: Int?

    @Flag(name: .long, help: "Do not measure cold-cache reads (they drop the page cache system-wide).")
    var noCold = false

    @Flag(name: .long, help: "Keep the temporary directory instead of removing it.")
    var keep = false

    func validate() throws {
        if let samples, samples < 1 { throw ValidationError("--samples must be at least 1") }
    }

    /// nil when cold reads can be measured, otherwise why they are not.
    var coldUnavailable: String? {
        noCold ? "skipped (--no-cold)" : PageCache.unavailableReason()
    }

    /// Runs `body` in a fresh temporary directory under --dir, removed afterwards unless --keep.
    func withScratchRoot<Result>(prefix: String, _ body: (String) throws -> Result) throws -> Result {
        let base = dir ?? ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        let root = try makeTemporaryDirectory(under: base, prefix: prefix)
        defer {
            if keep {
                print("kept \(root)")
            } else {
                try? FileManager.default.removeItem(atPath: root)
            }
        }
        return try body(root)
    }

    func writeJSON<Report>(of reporter: BenchReporter<Report>) throws {
        guard let json else { return }
        try reporter.writeJSON(to: json)
        print("wrote \(json)")
    }
}
