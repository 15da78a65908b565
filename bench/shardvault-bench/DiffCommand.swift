import ArgumentParser
import Foundation

/// `shardvault-bench diff A.json B.json`: what changed between two runs of the same mode.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two JSON reports of the same mode (compare, micro, s3, vault) result by result.",
        discussion: """
            For every result in both files: median A, median B, the change in percent, and a verdict. \
            A change counts only when it is beyond the measured spread: B's median outside A's min–max and \
            A's median outside B's. Rates (MB/s, ops/s, …) are better higher; s, ms, ns and mallocs lower. \
            Results in only one file are listed. Exits 0 unless --fail-on-regression finds a regression.
            """)

    @Argument(help: ArgumentHelp("The earlier report (the baseline).", valueName: "A.json"))
    var a: String

    @Argument(help: ArgumentHelp("The later report.", valueName: "B.json"))
    var b: String

    @Option(help: ArgumentHelp("Also write the table as Markdown to this file.", valueName: "file"))
    var markdown: String?

    @Flag(help: "Exit 1 when any result regressed beyond its spread.")
    var failOnRegression = false

    func run() throws {
        let left = try ReportDiff.load(a)
        let right = try ReportDiff.load(b)
        if let modeA = left.mode, let modeB = right.mode, modeA != modeB {
            throw BenchError.setup("\(a) is a \(modeA) report and \(b) a \(modeB) report: diff needs two of the same mode")
        }
        let diff = ReportDiff(a: left, b: right)
        print(diff.plain(pathA: a, pathB: b))
        if let markdown {
            try diff.markdown(pathA: a, pathB: b).write(toFile: markdown, atomically: true, encoding: .utf8)
            print("wrote \(markdown)")
        }
        if failOnRegression && !diff.regressions.isEmpty {
            print("\(diff.regressions.count) regression(s) beyond spread: "
                  + diff.regressions.map(\.name).joined(separator: ", "))
            throw ExitCode(1)
        }
    }
}
